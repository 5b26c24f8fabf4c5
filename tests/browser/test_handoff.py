"""A customer in the widget and an agent in the console, on the real stack.

Flow: customer asks for a person (the header says they wait in the queue) -> agent claims
from the queue, sees the transcript; the customer is told the agent joined and the header
names them -> live chat both ways (each direction within 2 s) -> the customer's photo is
seen by the agent, the agent's PDF is downloaded by the customer -> agent resolves (the
customer is told they left) -> the customer rates 5 -> the handoff has csat 5 -> the bot
answers the next message again. Also measures agent -> customer delivery latency over 10 messages.
"""

from __future__ import annotations

import secrets
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from bot.db import session_scope
from bot.handoff.models import Handoff
from bot.settings import load_settings
from tests.support import files
from tests.support.console import agents_offline
from tests.support.stack import ROOT, VENV_BIN, Stack
from tests.support.widget import open_chat

pytestmark = [pytest.mark.browser, pytest.mark.stack]

AGENT_LOGIN = "handoff_test_agent"
AGENT_NAME = "Alice Agent"
DELIVERY_LIMIT_MS = 2000
# A file is checked (and a photo re-encoded without its metadata) before it is stored and pushed: the
# 2 s promise is for messages; an upload on a busy 2-core machine gets more.
ATTACHMENT_MS = 10_000
LATENCY_SAMPLES = 10
BOT_TIMEOUT_MS = 60_000
WIDGET = ROOT / "bot" / "web" / "static" / "widget" / "chat-widget.js"

# Records when each agent message node first appears in the customer's page (Date.now()).
SEEN_OBSERVER = """
() => {
  window.__agentSeen = {};
  const scan = () => {
    document.querySelectorAll('[data-testid="vm-message"][data-sender="agent"]').forEach((node) => {
      const text = node.textContent || "";
      const match = text.match(/probe-\\d+-[0-9a-f]+/);
      if (match && !(match[0] in window.__agentSeen)) window.__agentSeen[match[0]] = Date.now();
    });
  };
  new MutationObserver(scan).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  scan();
}
"""


def database_url(stack: Stack) -> str:
    return load_settings(env=stack.env).database_url


def create_agent(stack: Stack, password: str) -> None:
    subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "bot",
            "agents",
            "add",
            AGENT_LOGIN,
            "--display-name",
            AGENT_NAME,
            "--password-stdin",
        ],
        input=password + "\n",
        cwd=ROOT,
        env=stack.env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Customer:
    """The customer's side: the widget when it exists, otherwise the chat API."""

    stack: Stack
    page: Page | None
    session_id: str | None = None
    last_id: int = 0

    def bot_count(self) -> int:
        if self.page is not None:
            return self.page.locator('[data-testid="vm-message"][data-sender="bot"]').count()
        return 0

    def say(self, text: str) -> list[str]:
        """Send a message; returns the texts of the bot's replies (waits for at least one)."""
        if self.page is None:
            return [m["text"] for m in self.stack.say(self.session_id, text)]
        before = self.bot_count()
        self.type(text)
        bots = self.page.locator('[data-testid="vm-message"][data-sender="bot"]')
        expect(bots.nth(before)).to_be_attached(timeout=BOT_TIMEOUT_MS)
        self.page.wait_for_timeout(300)  # let a multi-message answer finish rendering
        return [bots.nth(i).inner_text() for i in range(before, bots.count())]

    def type(self, text: str) -> None:
        if self.page is None:
            self.stack.say(self.session_id, text)
            return
        self.page.locator('[data-testid="vm-input"]').fill(text)
        self.page.locator('[data-testid="vm-send"]').click()

    def wait_for(self, sender: str, text: str, timeout_ms: int) -> None:
        if self.page is not None:
            message = self.page.locator(f'[data-testid="vm-message"][data-sender="{sender}"]', has_text=text)
            expect(message.first).to_be_visible(timeout=timeout_ms)
            return
        deadline = time.monotonic() + timeout_ms / 1000
        import requests

        while time.monotonic() < deadline:
            wait = max(min(deadline - time.monotonic(), 5), 0)
            found = requests.get(
                f"{self.stack.url}/api/messages",
                params={"session_id": self.session_id, "after": self.last_id, "wait": wait},
                timeout=30,
            ).json()["messages"]
            for message in found:
                self.last_id = max(self.last_id, message["id"])
                if message["sender"] == sender and text in message["text"]:
                    return
        raise AssertionError(f"the customer did not get {sender} message {text!r} in {timeout_ms} ms")


@pytest.fixture()
def agent_password(stack: Stack) -> Iterator[str]:
    password = secrets.token_urlsafe(18)
    create_agent(stack, password)
    yield password
    # Leave the stack as we found it: no agent "online" for the tests that follow.
    agents_offline(database_url(stack), AGENT_LOGIN)


def test_customer_and_agent_talk_then_rate(stack: Stack, browser: Browser, agent_password: str) -> None:
    url = database_url(stack)
    agent_ctx = browser.new_context(locale="en-US")
    customer_ctx = browser.new_context(locale="en-US")
    problems: list[str] = []
    try:
        # --- the agent logs in and waits on the queue page ------------------------
        agent = agent_ctx.new_page()
        agent.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        agent.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        agent.on(
            "console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None
        )
        agent.goto(stack.url + "/agent/login")
        agent.fill("#username", AGENT_LOGIN)
        agent.fill("#password", "not the password")
        agent.click('[data-testid="login-submit"]')
        expect(agent.get_by_test_id("login-error")).to_have_text("wrong login or password")
        agent.fill("#username", AGENT_LOGIN)
        agent.fill("#password", agent_password)
        agent.click('[data-testid="login-submit"]')
        expect(agent.get_by_test_id("agent-name")).to_have_text(AGENT_NAME)
        problems.clear()  # the 401 of the wrong password is logged by chromium; that is expected

        # --- the customer asks for a person --------------------------------------
        with session_scope(url) as db:
            before = db.scalar(select(func.max(Handoff.id))) or 0
        if WIDGET.exists():
            page = customer_ctx.new_page()
            page.on(
                "dialog",
                lambda dialog: (problems.append(f"customer dialog: {dialog.message}"), dialog.dismiss()),
            )
            page.goto(stack.url + "/")
            open_chat(page)
            customer = Customer(stack, page)
        else:
            customer = Customer(stack, None, session_id=stack.new_session())
        print(f"\ncustomer side: {'widget' if customer.page else 'chat API'}")
        assert customer.say("hello")
        replies = customer.say("I want to talk to a person")
        assert any("queue" in reply for reply in replies), replies
        if customer.page is not None:
            subtitle = customer.page.get_by_test_id("vm-subtitle")
            expect(subtitle).to_have_text("Waiting in the queue for a colleague")
        with session_scope(url) as db:
            mine = db.execute(select(Handoff).where(Handoff.id > before)).scalars().all()
        assert [h.status for h in mine] == ["queued"], "the agent was online: the handoff must queue"
        handoff_id = mine[0].id

        # --- the agent sees it in the queue (auto-refresh) and claims it -----------
        row = agent.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')
        expect(row).to_be_visible(timeout=10_000)
        expect(row).to_contain_text("I want to talk to a person")
        expect(row.locator(".lang")).to_have_text("en")
        row.get_by_test_id("claim").click()
        agent.wait_for_url(f"**/agent/handoffs/{handoff_id}")
        timeline = agent.get_by_test_id("agent-timeline")
        expect(timeline).to_contain_text("hello")
        expect(timeline).to_contain_text("I want to talk to a person")
        expect(timeline).to_contain_text("request_human")  # the NLU ranking of that message
        expect(agent.get_by_test_id("handoff-status")).to_have_text("assigned")
        if customer.page is not None:  # the customer is told who joined, and the header names them
            joined = f"{AGENT_NAME} from our team has joined the chat."
            customer.wait_for("system", joined, DELIVERY_LIMIT_MS)
            expect(subtitle).to_have_text(f"Connected with {AGENT_NAME}")

        # --- agent -> customer within 2 s, shown as from the agent ----------------
        if customer.page is not None:
            customer.page.evaluate(SEEN_OBSERVER)
        greeting = f"Hi, {AGENT_NAME} here. How can I help? probe-0-{secrets.token_hex(3)}"
        agent.get_by_test_id("agent-reply").fill(greeting)
        agent.get_by_test_id("agent-send").click()
        customer.wait_for("agent", greeting, DELIVERY_LIMIT_MS)
        if customer.page is not None:
            shown = customer.page.locator(
                '[data-testid="vm-message"][data-sender="agent"]', has_text=greeting
            )
            expect(shown).to_contain_text(AGENT_NAME)

        # --- customer -> agent within 2 s; markup stays text ------------------------
        complaint = "My kettle <script>alert(1)</script> arrived broken"
        customer.type(complaint)
        expect(agent.locator('#timeline [data-sender="customer"]', has_text=complaint)).to_be_visible(
            timeout=DELIVERY_LIMIT_MS
        )

        # --- canned answer: search the KB and insert it into the reply box ----------
        agent.get_by_test_id("kb-query").fill("refund")
        agent.get_by_test_id("kb-search").click()
        agent.get_by_test_id("kb-insert").first.click(timeout=30_000)
        assert agent.get_by_test_id("agent-reply").input_value().strip()
        agent.get_by_test_id("agent-reply").fill("")

        # --- delivery latency over 10 messages --------------------------------------
        latencies = []
        for n in range(1, LATENCY_SAMPLES + 1):
            probe = f"probe-{n}-{secrets.token_hex(3)}"
            agent.get_by_test_id("agent-reply").fill(f"Checking that for you ({probe})")
            started = time.time() * 1000
            agent.get_by_test_id("agent-send").click()
            customer.wait_for("agent", probe, DELIVERY_LIMIT_MS)
            if customer.page is not None:
                seen = customer.page.evaluate("(key) => window.__agentSeen[key]", probe)
            else:
                seen = time.time() * 1000
            latencies.append(seen - started)
        print(
            f"agent->customer delivery over {len(latencies)} messages: "
            f"p50 {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms "
            f"(all: {', '.join(f'{v:.0f}' for v in latencies)})"
        )
        assert max(latencies) < DELIVERY_LIMIT_MS

        # --- the conversation survives a reload (state comes from the database) -----
        agent.reload()
        expect(agent.locator('#timeline [data-sender="customer"]', has_text=complaint)).to_be_visible()
        expect(agent.locator('#timeline [data-sender="agent"]')).to_have_count(LATENCY_SAMPLES + 1)

        # --- attachments: the customer's photo reaches the agent, the agent's PDF the customer ---
        if customer.page is not None:
            photo = {"name": "broken kettle.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg_with_exif((120, 90))}
            customer.page.get_by_test_id("vm-file-input").set_input_files(photo)
            own = customer.page.get_by_test_id("vm-attachment-image")
            expect(own).to_be_visible(timeout=ATTACHMENT_MS)
            seen_by_agent = agent.locator("#timeline [data-testid='agent-attachment-image']")
            expect(seen_by_agent).to_be_visible(timeout=ATTACHMENT_MS)
            for image in (own, seen_by_agent):  # really loaded: the session (or login) proves whose it is
                expect(image).to_have_js_property("complete", True)
                assert image.evaluate("img => img.naturalWidth") == 120
            label = files.pdf()
            agent.get_by_test_id("agent-attach").set_input_files(
                {"name": "return label.pdf", "mimeType": "application/pdf", "buffer": label}
            )
            link = customer.page.get_by_test_id("vm-attachment-file")
            expect(link).to_contain_text("return label.pdf", timeout=ATTACHMENT_MS)
            with customer.page.expect_download() as download:
                link.click()
            assert download.value.suggested_filename == "return label.pdf"
            assert Path(download.value.path()).read_bytes() == label

        # --- resolve: the customer is asked for a rating and rates 5 ---------------
        agent.get_by_test_id("agent-resolve").click()
        expect(agent.get_by_test_id("handoff-status")).to_have_text("resolved")
        expect(agent.get_by_test_id("chat-alert")).to_contain_text("asked for a rating")
        if customer.page is not None:
            customer.wait_for("system", f"{AGENT_NAME} has left the chat.", DELIVERY_LIMIT_MS)
            expect(subtitle).not_to_contain_text(AGENT_NAME)
        if customer.page is not None:
            five = customer.page.locator('[data-testid="vm-quick-reply"]', has_text="5").last
            expect(five).to_be_visible(timeout=5_000)
            before_thanks = customer.bot_count()
            five.click()
            expect(
                customer.page.locator('[data-testid="vm-message"][data-sender="bot"]').nth(before_thanks)
            ).to_be_attached(timeout=BOT_TIMEOUT_MS)
        else:
            customer.wait_for("bot", "rate", 5_000)
            stack.say(customer.session_id, '/rate{"rating": 5}')
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with session_scope(url) as db:
                csat = db.get(Handoff, handoff_id).csat
            if csat is not None:
                break
            time.sleep(0.25)
        assert csat == 5
        expect(agent.get_by_test_id("handoff-csat")).to_have_text("5", timeout=10_000)

        # --- the bot is back ----------------------------------------------------------
        replies = customer.say("hello")
        assert replies and not any("didn't quite get that" in r for r in replies), replies
        with session_scope(url) as db:
            assert db.get(Handoff, handoff_id).status == "resolved"
        assert not problems, problems
    finally:
        agent_ctx.close()
        customer_ctx.close()
