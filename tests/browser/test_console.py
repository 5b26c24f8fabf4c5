"""The agent console in Chromium on the real stack: two agents, customers, a local SMTP server.

Each test is one acceptance item of issue 12. The stack is this module's own: it
sends mail to a local SMTP server and sweeps for unclaimed handoffs every second
(a test ages its handoff in the database instead of waiting ten minutes).
Also writes the README screenshots of the console (test_screenshots).
"""

from __future__ import annotations

import asyncore
import re
import secrets
import shutil
import smtpd
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
import socketio
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from bot.db import session_scope
from bot.handoff.models import Handoff
from bot.settings import load_settings
from tests.support.stack import ROOT, VENV_BIN, Stack, free_port
from tests.support.widget import open_chat

pytestmark = [pytest.mark.browser, pytest.mark.stack]

SHOTS = ROOT / "docs" / "screenshots"
WIDGET_DIR = ROOT / "bot" / "web" / "static" / "widget"
PASSWORD = "console-test-password"
AGENTS = {"alice": "Alice Agent", "bob": "Bob Builder", "sam": "Sam Supervisor"}
SUPERVISORS = {"sam"}
PUSH_MS = 5_000
BOT_MS = 60_000


# --- fixtures ------------------------------------------------------------------------
class MailCatcher(smtpd.SMTPServer):
    """A local SMTP server (standard library) that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), None)
        self.received: list = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        self.received.append(message_from_bytes(data, policy=policy.default))


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            asyncore.loop(timeout=0.1, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield catcher
    stop.set()
    catcher.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory: pytest.TempPathFactory, mail: MailCatcher) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("console_stack")
    # A copy of the FAQ: the content-editor tests save and break files in it.
    shutil.copytree(ROOT / "knowledge_base", workdir / "knowledge_base")
    stack = Stack(
        workdir,
        extra_env={
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "SMTP_STARTTLS": "0",
            "KB_PATH": str(workdir / "knowledge_base"),
        },
        handoff_settings={"unclaimed_check_seconds": 1},
    ).start()
    for username, name in AGENTS.items():
        subprocess.run(
            [
                str(VENV_BIN / "python"), "-m", "bot", "agents", "add", username, "--display-name", name,
                "--password-stdin", *(["--role", "supervisor"] if username in SUPERVISORS else []),
            ],
            input=PASSWORD + "\n",
            cwd=ROOT,
            env=stack.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    try:
        yield stack
    finally:
        stack.stop()


def db_url(stack: Stack) -> str:
    return load_settings(env=stack.env).database_url


@pytest.fixture()
def contexts(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    opened: list[BrowserContext] = []

    def new() -> BrowserContext:
        context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


def log_in(context: BrowserContext, stack: Stack, username: str) -> Page:
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(stack.url + "/agent/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click('[data-testid="login-submit"]')
    expect(page.get_by_test_id("agent-name")).to_have_text(AGENTS[username])
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=PUSH_MS)
    page.problems = problems  # type: ignore[attr-defined]
    return page


def ask_for_person(stack: Stack, first: str = "hello") -> tuple[str, int]:
    """A customer (chat API) says ``first``, then asks for a person while an agent is online."""
    session_id = stack.new_session()
    stack.say(session_id, first)
    replies = stack.say(session_id, "I want to talk to a person")
    assert any("queue" in m["text"] for m in replies), replies
    handoff = requests.get(f"{stack.url}/api/messages", params={"session_id": session_id}, timeout=10).json()
    assert handoff["mode"] == "handoff"
    with session_scope(db_url(stack)) as db:
        found = db.query(Handoff).filter(Handoff.conversation_id == session_id).one()
        assert found.status == "queued"
        return session_id, found.id


def customer_messages(stack: Stack, session_id: str) -> list[dict]:
    return requests.get(f"{stack.url}/api/messages", params={"session_id": session_id}, timeout=10).json()[
        "messages"
    ]


def wait_until(check: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def claim_from_queue(page: Page, stack: Stack, handoff_id: int) -> None:
    page.goto(stack.url + "/agent/")
    row = page.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')
    expect(row).to_be_visible(timeout=PUSH_MS)
    row.get_by_test_id("claim").click()
    page.wait_for_url(f"**/agent/handoffs/{handoff_id}")
    expect(page.get_by_test_id("handoff-status")).to_have_text("assigned")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=PUSH_MS)


# --- acceptance ------------------------------------------------------------------------
def test_transfer_to_another_agent_with_a_note(console_stack: Stack, contexts) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    bob = log_in(contexts(), stack, "bob")
    _, handoff_id = ask_for_person(stack)
    claim_from_queue(alice, stack, handoff_id)
    expect(bob.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')).to_have_count(0, timeout=PUSH_MS)

    note = f"Wants a refund for the kettle, order already checked ({secrets.token_hex(3)})"
    alice.get_by_test_id("transfer-open").click()
    alice.get_by_test_id("transfer-to").select_option(label="Bob Builder (online)")
    alice.get_by_test_id("transfer-note").fill(note)
    alice.get_by_test_id("transfer-submit").click()
    alice.wait_for_url("**/agent/")

    # Bob's queue shows it among his conversations, pushed.
    mine = bob.locator(f'#mine tr[data-handoff-id="{handoff_id}"]')
    expect(mine).to_be_visible(timeout=PUSH_MS)
    mine.get_by_role("link", name="Open").click()
    expect(bob.get_by_test_id("handoff-owner")).to_have_text("with Bob Builder")
    expect(bob.get_by_test_id("notes")).to_contain_text(note)
    expect(bob.get_by_test_id("notes")).to_contain_text("Transferred from Alice Agent to Bob Builder")
    expect(bob.get_by_test_id("agent-reply")).to_be_visible()  # Bob can answer now
    expect(bob.get_by_test_id("panel-agent")).to_have_text("Bob Builder")
    # ... and Alice no longer has it.
    expect(alice.locator(f'#mine tr[data-handoff-id="{handoff_id}"]')).to_have_count(0)
    assert not alice.problems and not bob.problems  # type: ignore[attr-defined]


def test_attention_count_for_a_new_handoff_while_on_another_conversation(console_stack: Stack, contexts) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    _, first = ask_for_person(stack)
    claim_from_queue(alice, stack, first)
    expect(alice.get_by_test_id("attention-count")).to_be_hidden()
    title = alice.title()

    _, second = ask_for_person(stack, "good morning")
    badge = alice.get_by_test_id("attention-count")
    expect(badge).to_be_visible(timeout=PUSH_MS)
    expect(badge).to_have_text("1")
    assert alice.title() == f"(1) {title}"
    # Seeing the queue clears it.
    alice.get_by_test_id("nav-queue").click()
    expect(alice.locator(f'#waiting tr[data-handoff-id="{second}"]')).to_be_visible()
    expect(alice.get_by_test_id("attention-count")).to_be_hidden()


def test_customer_sees_the_agent_typing(console_stack: Stack, contexts) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    session_id, handoff_id = ask_for_person(stack)
    claim_from_queue(alice, stack, handoff_id)

    # The customer's live connection, as the widget opens it.
    customer = socketio.Client(reconnection=False)
    seen: list[dict] = []
    customer.on("typing", lambda data: seen.append(data))
    customer.connect(stack.url, auth={"session_id": session_id, "after": 0}, transports=["polling"])
    widget_page = None
    try:
        if '"data-testid": "vm-typing"' in "".join(p.read_text() for p in WIDGET_DIR.glob("*.js")):
            widget_page = contexts().new_page()  # the widget of this session, where it shows agent typing
            widget_page.add_init_script(
                f"localStorage.setItem('chat-widget:session', JSON.stringify({session_id!r}))"
            )
            widget_page.goto(stack.url + "/")
            open_chat(widget_page)
            own = widget_page.locator('[data-testid="vm-message"][data-sender="customer"]', has_text="talk to a person")
            expect(own).to_be_visible(timeout=PUSH_MS)  # the widget resumed this very conversation
            # ... and its live connection is up: typing is pushed, never stored, so it would be missed.
            widget_page.wait_for_function(
                "() => window.ChatWidget.connection.transport === 'socket'", timeout=30_000
            )
        # The agent sees the customer typing ...
        customer.emit("typing", {"typing": True})
        expect(alice.get_by_test_id("customer-typing")).to_be_visible(timeout=PUSH_MS)
        customer.emit("typing", {"typing": False})
        expect(alice.get_by_test_id("customer-typing")).to_be_hidden(timeout=PUSH_MS)
        # ... and the customer sees the agent typing.
        alice.get_by_test_id("agent-reply").press_sequentially("Let me check that", delay=30)
        wait_until(lambda: any(e.get("typing") and e.get("sender") == "agent" for e in seen), 5, "typing")
        assert {"sender": "agent", "name": "Alice Agent", "typing": True} in seen
        if widget_page is not None:
            expect(widget_page.get_by_test_id("vm-typing")).to_contain_text("Alice", timeout=PUSH_MS)
        # Sending stops it.
        alice.get_by_test_id("agent-send").click()
        wait_until(lambda: seen[-1].get("typing") is False, 5, "typing to stop")
    finally:
        customer.disconnect()


def test_a_shortcode_answer_is_sent_in_the_customers_language(console_stack: Stack, contexts) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    session_id = stack.new_session()
    stack.say(session_id, "Dobrý deň")
    stack.say(session_id, "Chcem hovoriť s človekom, prosím")
    with session_scope(db_url(stack)) as db:
        handoff = db.query(Handoff).filter(Handoff.conversation_id == session_id).one()
        handoff_id, language = handoff.id, handoff.language
    assert language == "sk"
    claim_from_queue(alice, stack, handoff_id)

    reply = alice.get_by_test_id("agent-reply")
    reply.press_sequentially("/ref")
    option = alice.get_by_test_id("canned-option")
    expect(option).to_have_count(1)
    expect(option).to_contain_text("/refund")
    reply.press("Enter")  # picks the answer
    expect(reply).to_have_value("Keď vrátený tovar dostaneme, peniaze vám vrátime na pôvodný spôsob platby do **14 dní**.")
    reply.press("Enter")  # sends it
    expect(reply).to_have_value("")
    wait_until(
        lambda: any(
            m["sender"] == "agent" and "14 dní" in m["text"] for m in customer_messages(stack, session_id)
        ),
        5,
        "the canned answer at the customer",
    )
    # The console renders the Markdown safely: bold, not stars.
    sent = alice.locator('#timeline [data-sender="agent"]').last
    expect(sent.locator("strong")).to_have_text("14 dní")


def age_handoff(stack: Stack, handoff_id: int, minutes: float) -> None:
    then = datetime.utcnow() - timedelta(minutes=minutes)
    with session_scope(db_url(stack)) as db:
        db.execute(update(Handoff).where(Handoff.id == handoff_id).values(created_at=then, queued_at=then))


def test_unclaimed_handoff_becomes_a_ticket_and_the_customer_is_told(console_stack: Stack, contexts) -> None:
    stack = console_stack
    bob = log_in(contexts(), stack, "bob")  # online, but nobody claims it
    session_id, handoff_id = ask_for_person(stack)
    expect(bob.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')).to_be_visible(timeout=PUSH_MS)
    age_handoff(stack, handoff_id, 11)  # default timeout: 10 minutes

    told = wait_until(
        lambda: [m for m in customer_messages(stack, session_id) if m["sender"] == "system"], 15, "the notice"
    )
    assert "none of our team could take your chat in the last 10 minutes" in told[0]["text"]
    assert "email" in told[0]["text"]
    with session_scope(db_url(stack)) as db:
        ticket = db.get(Handoff, handoff_id)
        assert ticket.status == "ticket" and ticket.timed_out_at is not None
        assert ticket.promise == "reply by email within 24 hours" and ticket.promise_due_at is not None
    # It left the waiting list and shows among the tickets, for every agent, pushed.
    expect(bob.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')).to_have_count(0, timeout=PUSH_MS)
    ticket_row = bob.locator(f'#tickets tr[data-handoff-id="{handoff_id}"]')
    expect(ticket_row).to_contain_text("nobody claimed it")

    # The address the customer types lands on the ticket, and they are told when to expect the reply.
    answer = stack.say(session_id, "sure: my.address@example.com")
    assert [m["text"] for m in answer] == ["Thank you. We'll reply to my.address@example.com within 24 hours."]
    assert _contact_email(stack, handoff_id) == "my.address@example.com"
    expect(ticket_row).to_contain_text("my.address@example.com", timeout=PUSH_MS)
    # The bot has the conversation again.
    assert stack.say(session_id, "hello")


def _contact_email(stack: Stack, handoff_id: int) -> str | None:
    with session_scope(db_url(stack)) as db:
        return db.get(Handoff, handoff_id).contact_email


def test_email_answer_reaches_smtp_and_the_promise_shows_kept(
    console_stack: Stack, contexts, mail: MailCatcher
) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    session_id, handoff_id = ask_for_person(stack)
    age_handoff(stack, handoff_id, 11)
    wait_until(lambda: _status(stack, handoff_id) == "ticket", 15, "the ticket")
    stack.say(session_id, "eva.mail@example.com")
    wait_until(lambda: _contact_email(stack, handoff_id) == "eva.mail@example.com", 10, "the contact email")

    alice.goto(f"{stack.url}/agent/handoffs/{handoff_id}")
    expect(alice.get_by_test_id("promise-state")).to_have_text("open")
    expect(alice.get_by_test_id("email-to")).to_have_text("eva.mail@example.com")
    answer = f"We found your parcel at the depot, it arrives tomorrow. ({secrets.token_hex(3)})"
    alice.get_by_test_id("email-text").fill(answer)
    alice.get_by_test_id("email-send").click()
    expect(alice.get_by_test_id("promise-state")).to_have_text("kept", timeout=PUSH_MS)
    expect(alice.get_by_test_id("notes")).to_contain_text(answer)

    received = wait_until(
        lambda: [m for m in mail.received if m["To"] == "eva.mail@example.com"], 15, "the mail at the SMTP server"
    )
    body = received[-1].get_content()
    assert received[-1]["Subject"] == "Your VoltMart support request"
    assert answer in body and "> I want to talk to a person" in body and "Alice Agent" in body
    # The customer's chat history shows the answer too.
    assert any(m["sender"] == "agent" and m["text"] == answer for m in customer_messages(stack, session_id))
    alice.goto(stack.url + "/agent/")
    expect(alice.locator(f'#tickets tr[data-handoff-id="{handoff_id}"]')).to_have_count(0)


def _status(stack: Stack, handoff_id: int) -> str:
    with session_scope(db_url(stack)) as db:
        return db.get(Handoff, handoff_id).status


def test_a_replayed_cookie_after_logout_is_refused(console_stack: Stack, contexts) -> None:
    stack = console_stack
    context = contexts()
    alice = log_in(context, stack, "alice")
    stolen = [c for c in context.cookies() if c["name"] == "session"]
    assert stolen
    alice.get_by_test_id("agent-logout").click()
    # The login page, possibly via /agent/ (?next=) when the live page reloads as the session ends.
    alice.wait_for_url(re.compile(r"/agent/login(\?.*)?$"))

    thief = contexts()
    thief.add_cookies(stolen)
    page = thief.new_page()
    page.goto(stack.url + "/agent/")
    expect(page).to_have_url(f"{stack.url}/agent/login?next=/agent/")
    cookie = {"session": stolen[0]["value"]}
    assert requests.get(f"{stack.url}/agent/queue.json", cookies=cookie, timeout=10).status_code == 401
    # The live connection refuses it too.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            stack.url,
            auth={"role": "agent"},
            headers={"Cookie": f"session={stolen[0]['value']}"},
            transports=["polling"],
        )
    # Logging in again works, with a new cookie.
    log_in(contexts(), stack, "alice")


# --- README screenshots ---------------------------------------------------------------------
def test_screenshots(console_stack: Stack, contexts) -> None:
    """docs/screenshots/console-queue.png and console-conversation.png."""
    stack = console_stack
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice = log_in(contexts(), stack, "alice")
    session_id, handoff_id = ask_for_person(stack)
    ask_for_person(stack, "hi there")
    alice.goto(stack.url + "/agent/")
    expect(alice.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')).to_be_visible()
    alice.screenshot(path=str(SHOTS / "console-queue.png"))
    claim_from_queue(alice, stack, handoff_id)
    alice.get_by_test_id("label-text").fill("damaged")
    alice.get_by_test_id("label-add").click()
    expect(alice.get_by_test_id("handoff-labels")).to_contain_text("damaged")
    alice.get_by_test_id("agent-reply").fill("So sorry to hear that! Could you send a photo of the damage?")
    alice.get_by_test_id("agent-send").click()
    stack.say(session_id, "Sure, here it is. The lid is cracked.")
    expect(alice.locator('#timeline [data-sender="customer"]', has_text="lid is cracked")).to_be_visible(
        timeout=PUSH_MS
    )
    reply = alice.get_by_test_id("agent-reply")
    reply.press_sequentially("/re")
    expect(alice.get_by_test_id("canned-menu")).to_be_visible()
    alice.screenshot(path=str(SHOTS / "console-conversation.png"))
    reply.fill("")
    alice.keyboard.press("Escape")
    alice.keyboard.press("?")
    expect(alice.get_by_test_id("shortcuts")).to_be_visible()
    alice.screenshot(path=str(SHOTS / "console-shortcuts.png"))
    assert Path(SHOTS / "console-queue.png").stat().st_size > 10_000


# --- issue 19: keys, languages, content editing -------------------------------------------
def test_ctrl_enter_sends_and_resolving_with_an_unsent_reply_asks(console_stack: Stack, contexts) -> None:
    stack = console_stack
    alice = log_in(contexts(), stack, "alice")
    session_id, handoff_id = ask_for_person(stack)
    claim_from_queue(alice, stack, handoff_id)
    # The timeline shows the customer's words, never a raw /payload.
    expect(alice.locator('#timeline [data-sender="customer"]', has_text="/")).to_have_count(0)
    reply = alice.get_by_test_id("agent-reply")
    reply.fill("Sent with Ctrl+Enter")
    reply.press("Control+Enter")
    expect(reply).to_have_value("")
    wait_until(
        lambda: any(m["text"] == "Sent with Ctrl+Enter" for m in customer_messages(stack, session_id)),
        5,
        "the Ctrl+Enter reply at the customer",
    )
    assert _status(stack, handoff_id) == "assigned"  # it sent; it did not resolve
    # Resolving with a typed, unsent reply asks first; "keep writing" loses nothing.
    reply.fill("One more thing about your order")
    alice.get_by_test_id("agent-resolve").click()
    dialog = alice.get_by_test_id("resolve-confirm")
    expect(dialog).to_be_visible()
    alice.get_by_test_id("resolve-cancel").click()
    expect(dialog).to_be_hidden()
    expect(reply).to_have_value("One more thing about your order")
    assert _status(stack, handoff_id) == "assigned"
    alice.get_by_test_id("agent-resolve").click()
    alice.get_by_test_id("resolve-send").click()
    wait_until(lambda: _status(stack, handoff_id) == "resolved", 10, "the handoff resolved after sending")
    assert any(m["text"] == "One more thing about your order" for m in customer_messages(stack, session_id))
    # `?` lists the keys, including the send key.
    alice.keyboard.press("Escape")
    alice.locator("body").click()
    alice.keyboard.press("?")
    expect(alice.get_by_test_id("shortcuts")).to_contain_text("Ctrl")
    assert not alice.problems  # type: ignore[attr-defined]


FOUR_LANGUAGES = {
    "en": ["Hello, how long does delivery to Slovakia take?", "And do you ship on Saturdays?"],
    "ru": ["Здравствуйте, сколько идёт доставка в Словакию?", "А по субботам вы отправляете?"],
    "sk": ["Dobrý deň, ako dlho trvá doručenie na Slovensko?", "A posielate aj v sobotu?"],
    "hu": ["Jó napot, mennyi ideig tart a szállítás Szlovákiába?", "És szombaton is küldenek csomagot?"],
}


def _language_rows(page: Page) -> dict[str, int]:
    rows = page.locator('[data-testid="table-languages"] tr[data-lang]')
    return {
        rows.nth(i).get_attribute("data-lang"): int(rows.nth(i).locator("td").nth(1).inner_text())
        for i in range(rows.count())
    }


def test_four_conversations_in_four_languages_show_in_the_report_rows(console_stack: Stack, contexts) -> None:
    stack = console_stack
    sam = log_in(contexts(), stack, "sam")
    # Days around today (UTC): the conversations below count even if midnight passes meanwhile.
    today = datetime.utcnow().date()
    report = f"{stack.url}/agent/reports?start={today - timedelta(days=1)}&end={today + timedelta(days=1)}"
    sam.goto(report)
    before = _language_rows(sam)
    for lines in FOUR_LANGUAGES.values():
        session_id = stack.new_session()
        for line in lines:
            stack.say(session_id, line)
    sam.goto(report)
    after = _language_rows(sam)
    assert {lang: after.get(lang, 0) - before.get(lang, 0) for lang in FOUR_LANGUAGES} == dict.fromkeys(
        FOUR_LANGUAGES, 1
    ), (before, after)


def test_an_faq_edit_in_the_console_answers_the_next_customer_despite_a_broken_file(
    console_stack: Stack, contexts
) -> None:
    stack = console_stack
    kb_dir = Path(stack.env["KB_PATH"])
    # Another editor's file is broken (an unclosed quote on one line)...
    broken = kb_dir / "warranty.yml"
    good = broken.read_text(encoding="utf-8")
    lines = good.splitlines()
    mistake = lines.index("        - warranty period")  # a phrasing gets an opening quote, never closed
    lines[mistake] = '        - "warranty period'
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        sam = log_in(contexts(), stack, "sam")
        sam.goto(stack.url + "/agent/content")
        problem = sam.locator('[data-testid="content-problem"][data-file="warranty.yml"]').first
        expect(problem).to_have_attribute("data-line", str(mistake + 1))  # the mistake's own line
        expect(problem).to_contain_text("quotation mark")
        # ... which does not block this edit of another file.
        sam.goto(stack.url + "/agent/content/faq/payment_methods")
        marker = f"We also accept VoltCoupons ({secrets.token_hex(3)})."
        answer = sam.get_by_test_id("faq-answer-en")
        answer.fill(answer.input_value() + "\n\n" + marker)
        expect(sam.get_by_test_id("faq-preview-en")).to_contain_text(marker)
        sam.get_by_test_id("faq-check").click()
        expect(sam.get_by_test_id("faq-check-ok")).to_be_visible(timeout=BOT_MS)
        sam.get_by_test_id("faq-save").click()
        expect(sam.locator(".flash-info")).to_be_visible(timeout=BOT_MS)
        # The action server's watcher reloads the FAQ (and embeds the edit): seconds, more on a busy
        # machine. Each try is a new customer: one chat asking again and again meets its rate limit.
        wait_until(
            lambda: any(
                marker in m["text"]
                for m in stack.say(stack.new_session(), "Which payment methods do you accept?")
            ),
            120,
            "the edited answer at the next customer",
        )
        # The broken file still answers with its last good version.
        replies = stack.say(stack.new_session(), "How long is the warranty?")
        assert any(m.get("faq_id") == "warranty" for m in replies), replies
    finally:
        broken.write_text(good, encoding="utf-8")


def test_an_agent_works_in_the_slovak_console(console_stack: Stack, contexts) -> None:
    stack = console_stack
    bob = log_in(contexts(), stack, "bob")
    bob.get_by_test_id("console-locale").select_option("sk")
    expect(bob.get_by_test_id("nav-queue")).to_contain_text("Front")
    expect(bob.locator("html")).to_have_attribute("lang", "sk")
    _session_id, handoff_id = ask_for_person(stack)  # the customer writes English; the agent reads Slovak
    claim_from_queue_sk = bob.locator(f'#waiting tr[data-handoff-id="{handoff_id}"]')
    bob.goto(stack.url + "/agent/")
    expect(claim_from_queue_sk).to_be_visible(timeout=PUSH_MS)
    bob.goto(f"{stack.url}/agent/handoffs/{handoff_id}")
    expect(bob.get_by_test_id("claim")).to_have_text("Prevziať tento rozhovor")
    bob.get_by_test_id("claim").click()
    # Strings of the page's scripts too, and dates in the Slovak locale.
    expect(bob.get_by_test_id("notes")).to_contain_text("Zatiaľ žiadne poznámky.")
    expect(bob.locator('#timeline [data-sender="customer"] .who').first).to_have_text("Zákazník")
    stamp = bob.locator("#timeline time").first.inner_text()
    assert stamp == bob.evaluate(
        """(iso) => new Intl.DateTimeFormat("sk", {timeZone: document.body.dataset.timezone || undefined,
            year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
            timeZoneName: "short"}).format(new Date(iso))""",
        bob.locator("#timeline time").first.get_attribute("datetime"),
    )
    # Remembered on the agent: a new login in another (English) browser is Slovak too.
    again = log_in(contexts(), stack, "bob")
    expect(again.get_by_test_id("nav-queue")).to_contain_text("Front")
    again.get_by_test_id("console-locale").select_option("en")
    expect(again.get_by_test_id("nav-queue")).to_contain_text("Queue")
