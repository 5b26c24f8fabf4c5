"""Issue 18's acceptance: another shop runs on the same product, and none of VoltMart shows.

A coffee shop made by ``python -m bot init`` (Kávička: Slovak and Hungarian only, a 14-day return
window, refunds in 7 days, brown), served by the whole stack (Rasa, actions, gateway) with its own
folder, and a real SMTP server (aiosmtpd). Its name, colours, hours and policies must appear in the
widget, the bot's replies, FAQ answers, the console and the mails; "VoltMart" nowhere. The shop is
made and started as its owner would (`python -m bot init DIR`, `make run SHOP=DIR`): one stack for the module.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.support.console import AgentConsole
from tests.support.mail import MailServer
from tests.support.stack import ROOT, VENV_BIN, free_port

pytestmark = [pytest.mark.browser, pytest.mark.stack]

LAUNCHER = '[data-testid="vm-launcher"]'
PANEL = '[data-testid="vm-panel"]'
INPUT = '[data-testid="vm-input"]'
MESSAGE = '[data-testid="vm-message"]'
CUSTOMER = f'{MESSAGE}[data-sender="customer"]'
ANSWER = f'{MESSAGE}:not([data-sender="customer"])'
REPLY_TIMEOUT = 90_000
PASSWORD = "coffee beans all day long"
INIT_FLAGS = [
    "--name", "Kávička", "--languages", "sk,hu", "--email", "ahoj@kavicka.example",
    "--phone", "+421 900 123 456", "--website", "https://kavicka.example", "--timezone", "Europe/Budapest",
    "--return-days", "14", "--refund-days", "7", "--warranty-months", "12",
    "--shipping", "2.90", "--free-shipping-over", "40", "--colour", "#6f4e37",
]  # fmt: skip
BROWN = "rgb(111, 78, 55)"
HOURS_SK = "po–pi 9:00–17:00"  # init's default chat hours, written the Slovak way
HOURS_HU = "h–p 9:00–17:00"


def no_voltmart(text: str) -> None:
    assert "voltmart" not in text.lower(), text[:2000]


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


class MadeShop:
    """A shop as its owner makes it: `python -m bot init DIR`, then `make run SHOP=DIR`, on free ports."""

    def __init__(self, shop: Path, extra_env: dict[str, str]) -> None:
        self.shop = shop
        self.workdir = shop
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        env = {key: value for key, value in os.environ.items() if key not in INHERITED}
        env.update(
            GATEWAY_PORT=str(self.gateway_port),
            RASA_PORT=str(free_port()),
            ACTION_PORT=str(free_port()),
            RASA_TELEMETRY_ENABLED="false",
            SECRET_KEY=secrets.token_hex(32),
            SHOP_DIR=str(shop),
            **extra_env,
        )
        self.env = env
        self.log = shop.parent / "make-run.out"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 420) -> MadeShop:
        self.process = subprocess.Popen(
            ["make", "run", f"SHOP={self.shop}"],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited: {self.output()[-3000:]}")
            try:
                if requests.get(f"{self.url}/health", timeout=3).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"make run not healthy after {timeout}s: {self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, name: str, lines: int = 200) -> str:
        path = self.shop / "var" / "log" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # Ctrl-C's way: run.sh stops supervisord and its programs
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# Set by `make pytest` (scripts/env.sh) or a test stack for the repository's own shop; make run
# derives them from the shop's folder.
INHERITED = {
    "RASA_TRACKER_DB", "RASA_MODEL", "RASA_ENDPOINTS", "RASA_TOKEN", "RASA_URL", "RASA_URLS",
    "ACTION_ENDPOINT_URL", "ACTION_SERVER_URL", "DATABASE_URL", "BOT_VAR_DIR", "BOT_SETTINGS", "KB_INDEX_DIR",
    "SHOP_DIR", "SHOP_PROFILE", "REDIS_URL", "ALLOWED_ORIGINS",
}  # fmt: skip


@pytest.fixture(scope="module")
def coffee(tmp_path_factory: pytest.TempPathFactory, mail: MailServer) -> Iterator[MadeShop]:
    shop = tmp_path_factory.mktemp("coffee_shop") / "kavicka"
    made = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", "init", str(shop), *INIT_FLAGS, "--no-train"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    running = MadeShop(shop, mail.env)  # make run trains (the model) and builds the shop's FAQ index
    try:
        running.start()
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "bot", "agents", "add", "marta", "--display-name", "Marta",
             "--password-stdin"],
            input=PASSWORD + "\n", cwd=ROOT, env=running.env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        yield running
    finally:
        running.stop()


def open_widget(browser: Browser, stack: MadeShop, locale: str) -> Page:
    """The shop's own page (/), where the widget opens by itself (data-open="true")."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(stack.url + "/")
    page.locator(LAUNCHER).wait_for()
    expect(page.locator(PANEL)).to_be_visible()
    return page


def say(page: Page, text: str) -> str:
    """Send a message; the text of the first answer to it."""
    answers = page.locator(ANSWER).count()
    page.fill(INPUT, text)
    page.keyboard.press("Enter")
    answer = page.locator(ANSWER).nth(answers)
    answer.wait_for(timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(500)  # a reply can come in several messages
    return "\n".join(page.locator(ANSWER).all_inner_texts()[answers:])


def test_the_widget_looks_and_speaks_like_the_coffee_shop(browser: Browser, coffee: MadeShop) -> None:
    page = open_widget(browser, coffee, "sk-SK")
    try:
        assert page.locator(LAUNCHER).evaluate("el => getComputedStyle(el).backgroundColor") == BROWN
        expect(page.locator(".vm-title")).to_have_text("Zákaznícka podpora Kávička")
        assert page.locator(".vm-header").evaluate("el => getComputedStyle(el).backgroundColor") == BROWN
        expect(page.locator(".vm-empty")).to_contain_text("Som asistent obchodu Kávička")
        expect(page.locator('[data-testid="vm-hours"]')).to_contain_text(HOURS_SK)

        greeting = say(page, "Dobrý deň")
        assert "Kávička" in greeting
        shipping = say(page, "Koľko stojí doprava?")  # an FAQ answer: the profile's prices, Slovak style
        assert "2,90\xa0€" in shipping and "40\xa0€" in shipping, shipping
        refund = say(page, "Kedy mi vrátite peniaze?")
        assert "7 dní" in refund, refund
        contact = say(page, "Aké máte otváracie hodiny?")
        assert HOURS_SK in contact and "ahoj@kavicka.example" in contact, contact
        no_voltmart(page.content())
    finally:
        page.context.close()


def test_a_language_the_shop_does_not_offer_is_answered_in_its_first(browser: Browser, coffee: MadeShop) -> None:
    page = open_widget(browser, coffee, "en-US")
    try:
        assert page.evaluate("() => window.ChatWidget.lang") == "sk"
        reply = say(page, "Hello, how much does shipping cost?")
        assert "2,90\xa0€" in reply or "Kávička" in reply, reply
        no_voltmart(page.content())
    finally:
        page.context.close()


def test_hungarian_replies_carry_the_shops_policies_and_the_mails_its_name(
    browser: Browser, coffee: MadeShop, mail: MailServer
) -> None:
    page = open_widget(browser, coffee, "hu-HU")
    try:
        expect(page.locator(".vm-title")).to_have_text("Kávička ügyfélszolgálat")
        expect(page.locator('[data-testid="vm-hours"]')).to_contain_text(HOURS_HU)
        assert "2,90\xa0EUR" in say(page, "Mennyibe kerül a szállítás?")
        # Delivered 45 days ago: outside this shop's 14-day window (VoltMart's 30 would not matter).
        say(page, "Vissza szeretnék küldeni egy terméket")
        say(page, "705528")
        closed = say(page, "kiss.eszter@example.hu")
        assert "14 napja" in closed and "12 hónapos" in closed, closed
        say(page, "Elfelejtettem a jelszavamat")
        say(page, "kiss.eszter@example.hu")
        no_voltmart(page.content())
    finally:
        page.context.close()
    reset = mail.wait_for(lambda m: m["To"] == "kiss.eszter@example.hu", timeout=120)  # the worker sends each minute
    body = MailServer.text(reset)
    assert "Kávička" in reset["Subject"] and "Kávička" in reset["From"]
    assert "https://kavicka.example/account/reset?token=" in body and "ahoj@kavicka.example" in body
    no_voltmart(reset.as_string())


def test_the_console_is_the_coffee_shops(browser: Browser, coffee: MadeShop) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(coffee.url + "/agent/login")
        assert "Kávička" in page.title()
        page.fill('input[name="username"]', "marta")
        page.fill('input[name="password"]', PASSWORD)
        page.locator('button[type="submit"], input[type="submit"]').first.click()
        expect(page).to_have_title(re.compile(r"Queue · Kávička agent console"))
        expect(page.locator(".brand")).to_contain_text("Kávička")
        expect(page.locator('[data-testid="shop-hours"]')).to_contain_text(HOURS_SK)
        assert page.locator(".topbar").evaluate("el => getComputedStyle(el).backgroundColor") == BROWN
        no_voltmart(page.content())
    finally:
        context.close()
    agent = AgentConsole(coffee.url, "marta", PASSWORD)
    canned = agent.http.get(f"{coffee.url}/agent/canned.json?lang=sk", timeout=10).json()["answers"]
    refund = next(answer for answer in canned if answer["shortcode"] == "refund")
    assert "7 dní" in refund["text"], refund
    found = agent.http.get(f"{coffee.url}/agent/kb/search", params={"q": "koľko stojí doprava", "lang": "sk"}, timeout=30)
    assert "2,90\xa0€" in found.json()["results"][0]["answer"]
    no_voltmart(str(canned) + found.text)


def test_make_run_printed_the_shop_and_its_embed_snippet(coffee: MadeShop) -> None:
    printed = coffee.output()
    assert "The support desk of Kávička is starting" in printed
    snippet = f'<script src="http://localhost:{coffee.gateway_port}/static/widget/chat-widget.js" defer></script>'
    assert snippet in printed and "https://kavicka.example" in printed
    assert (coffee.shop / "models" / "current.tar.gz").exists() and (coffee.shop / "var" / "app.db").exists()


def test_public_facts_and_health_name_no_other_shop(coffee: MadeShop) -> None:
    facts = requests.get(f"{coffee.url}/api/shop", timeout=10).json()
    assert facts["name"] == "Kávička" and facts["languages"] == ["sk", "hu"]
    assert facts["colours"]["primary"] == "#6f4e37"
    assert facts["embedding"]["allowed"] is True
    no_voltmart(str(facts) + requests.get(f"{coffee.url}/", timeout=10).text)


def test_no_voltmart_in_what_the_stack_stored(coffee: MadeShop) -> None:
    """Everything the bot said in this module's chats, as stored (rendered once, where stored)."""
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.messages.models import ChatMessage
    from bot.settings import load_settings

    with session_scope(load_settings(env=coffee.env).database_url) as session:
        texts = [text for text in session.execute(select(ChatMessage.text).where(ChatMessage.sender != "customer")).scalars()]
    assert texts, "no bot messages stored"
    assert not [t for t in texts if "{{" in t or "voltmart" in t.lower()], texts
    assert any("Kávička" in t for t in texts)
