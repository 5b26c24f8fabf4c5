"""The customer chat widget in headless chromium against the real stack (Rasa, actions, gateway).

Also writes the README screenshots to docs/screenshots/ (test_screenshots).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests as http_requests
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService
from bot.messages.log import MessageLog
from bot.settings import HandoffSettings
from tests.support.console import AgentConsole, agents_offline
from tests.support.stack import ROOT, Stack, free_port
from tests.support.widget import open_chat

pytestmark = [pytest.mark.browser, pytest.mark.stack]

LAUNCHER = '[data-testid="vm-launcher"]'
PANEL = '[data-testid="vm-panel"]'
INPUT = '[data-testid="vm-input"]'
SEND = '[data-testid="vm-send"]'
MESSAGE = '[data-testid="vm-message"]'
QUICK_REPLY = '[data-testid="vm-quick-reply"]'
BADGE = '[data-testid="vm-badge"]'
FEEDBACK = '[data-testid="vm-feedback"]'
CUSTOMER = f'{MESSAGE}[data-sender="customer"]'
ANSWER = f'{MESSAGE}:not([data-sender="customer"])'
REPLY_TIMEOUT = 90_000  # the first message wakes Rasa's pipeline up
SHOTS = ROOT / "docs" / "screenshots"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


# --- fixtures and helpers ------------------------------------------------------
@pytest.fixture()
def new_page(browser: Browser, stack: Stack) -> Iterator[Callable[..., Page]]:
    """new_page(path="/demo", **context options) -> a page in a fresh context (fresh localStorage)."""
    contexts: list[BrowserContext] = []

    def make(path: str = "/demo", **options: object) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.goto(stack.url + path)
        page.locator(LAUNCHER).wait_for()
        return page

    yield make
    for context in contexts:
        context.close()


def open_panel(page: Page) -> None:
    """Open the panel once the widget has mounted. After a reload the widget reopens a panel that
    was open (sessionStorage); a check made before it mounted clicked the launcher and closed it."""
    open_chat(page)
    expect(page.locator(PANEL)).to_be_visible()


def wait_for_socket(page: Page, timeout: float = 30_000) -> None:
    """The widget's live connection is up (pushed events that are not stored, like typing, need it)."""
    page.wait_for_function("() => window.ChatWidget.connection.transport === 'socket'", timeout=timeout)


def say(page: Page, text: str) -> None:
    """Type and send a message, wait until it is stored and the first answer to it is shown."""
    answers = page.locator(ANSWER).count()
    customers = page.locator(CUSTOMER).count()
    page.fill(INPUT, text)
    page.keyboard.press("Enter")
    expect(page.locator(CUSTOMER)).to_have_count(customers + 1)
    page.locator(ANSWER).nth(answers).wait_for(timeout=REPLY_TIMEOUT)
    expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))


def message_ids(page: Page) -> list[str]:
    return page.locator(MESSAGE).evaluate_all("nodes => nodes.map(n => n.dataset.id || 'pending')")


def session_of(page: Page) -> str:
    session = page.evaluate("() => window.ChatWidget.sessionId")
    assert session, "the widget has no session yet"
    return session


def database_url(stack: Stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{Path(stack.env['BOT_VAR_DIR']) / 'app.db'}"


def handoff_service(stack: Stack) -> HandoffService:
    return HandoffService(database_url(stack), HandoffSettings(hours="always"), MessageLog(database_url(stack)))


AGENT_PASSWORD = "correct horse battery staple"


def set_agent_presence(
    stack: Stack, username: str, online: bool, display_name: str = "Jana Nováková"
) -> SimpleNamespace:
    url = database_url(stack)
    agents.upsert_agent(url, username, AGENT_PASSWORD, display_name)
    with session_scope(url) as db:
        agent = db.execute(select(Agent).where(Agent.username == username)).scalar_one()
        agent.last_seen_at = datetime.now(UTC).replace(tzinfo=None) if online else None
        agent.presence = "online" if online else "offline"
        return SimpleNamespace(id=agent.id, display_name=agent.display_name, username=username)


def console_offline(stack: Stack, username: str) -> AgentConsole:
    """The agent's console over HTTP, the agent left offline (a console login sets them online, and
    later tests, e.g. tests/e2e/test_stack.py, expect nobody online). Not set_agent_presence: that
    sets the password again, which ends the console's session."""
    console = AgentConsole(stack.url, username, AGENT_PASSWORD)
    agents_offline(database_url(stack), username)
    return console


def queued_handoff(page: Page, stack: Stack) -> int:
    handoff = handoff_service(stack).active_handoff(session_of(page))
    assert handoff is not None and handoff.status == "queued", "no queued handoff after asking for a person"
    return handoff.id


def hand_over_to_agent(
    page: Page, stack: Stack, username: str, display_name: str = "Jana Nováková"
) -> tuple[AgentConsole, int]:
    """Ask for a person while an agent is online; the agent claims it in the console (over HTTP)."""
    set_agent_presence(stack, username, online=True, display_name=display_name)
    try:
        say(page, "I want to talk to a person")
    finally:
        set_agent_presence(stack, username, online=False, display_name=display_name)  # others expect nobody
    handoff_id = queued_handoff(page, stack)
    console = console_offline(stack, username)
    console.claim(handoff_id)
    return console, handoff_id


# --- tests -----------------------------------------------------------------------
def test_history_survives_reload_without_duplicates(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo")
    expect(page.locator(PANEL)).to_be_hidden()
    page.click(LAUNCHER)
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()

    say(page, "hello")
    expect(page.locator(f'{MESSAGE}[data-sender="bot"]').first).to_contain_text("VoltMart assistant")
    wait_for_socket(page)
    time.sleep(1.5)  # the connection's backlog repeats messages the widget has: shown once
    before = message_ids(page)
    texts = page.locator(MESSAGE).all_inner_texts()
    assert "pending" not in before and len(before) == len(set(before)) >= 2

    page.reload()
    open_panel(page)
    expect(page.locator(MESSAGE)).to_have_count(len(before))
    wait_for_socket(page)
    time.sleep(1.5)
    after = message_ids(page)
    assert after == before
    assert page.locator(MESSAGE).all_inner_texts() == texts
    expect(page.locator(CUSTOMER).first).to_have_text("hello")


def test_quick_reply_shows_title_and_disables_buttons(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "what's the weather")
    buttons = page.locator(f'{MESSAGE}[data-sender="bot"]').last.locator(QUICK_REPLY)
    expect(buttons).to_have_count(2)
    expect(buttons.first).to_have_text("Talk to a person")
    expect(buttons.first).to_be_enabled()
    expect(buttons.nth(1)).to_be_enabled()

    answers = page.locator(ANSWER).count()
    buttons.first.click()
    expect(page.locator(CUSTOMER).last).to_have_text("Talk to a person")  # the title, not "/request_human"
    expect(buttons.first).to_be_disabled()
    expect(buttons.nth(1)).to_be_disabled()
    page.locator(ANSWER).nth(answers).wait_for(timeout=REPLY_TIMEOUT)
    expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))
    assert "/request_human" not in page.locator(PANEL).inner_text()

    page.reload()  # history shows the title too, and answered buttons stay disabled
    open_panel(page)
    expect(page.locator(CUSTOMER).last).to_have_text("Talk to a person")
    expect(page.locator(QUICK_REPLY).first).to_be_disabled()


def test_untrusted_text_stays_inert(new_page: Callable[..., Page], stack: Stack) -> None:
    # bypass_csp: the gateway's CSP would block inline handlers anyway; the widget must not rely on it.
    page = new_page("/demo", bypass_csp=True)
    open_panel(page)
    say(page, XSS)
    expect(page.locator(CUSTOMER).last).to_have_text(XSS)
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(f"{PANEL} img, {PANEL} script").count() == 0

    # An agent with a hostile name sends hostile Markdown; it is pushed to the widget.
    hostile = (
        "**Hi** [click](javascript:window.__xss=1) [again](JaVaScRiPt:alert(1)) "
        '<img src=x onerror="window.__xss=1">\n- [safe](https://voltmart.example/returns)'
    )
    console, handoff_id = hand_over_to_agent(page, stack, "widget-xss-agent", display_name="<b>Mallory</b>")
    console.reply(handoff_id, hostile)
    console.resolve(handoff_id)
    agent_message = page.locator(f'{MESSAGE}[data-sender="agent"]').last
    agent_message.wait_for(timeout=40_000)
    expect(agent_message).to_contain_text("<b>Mallory</b>")
    expect(agent_message).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(agent_message.locator("strong")).to_have_text("Hi")
    links = agent_message.locator("a")
    expect(links).to_have_count(1)
    expect(links.first).to_have_attribute("href", "https://voltmart.example/returns")
    expect(links.first).to_have_attribute("target", "_blank")
    expect(links.first).to_have_attribute("rel", "noopener noreferrer")
    assert page.locator(f"{PANEL} img, {PANEL} script, {PANEL} b").count() == 0

    # The renderer itself, on the cases a bot or agent could send.
    rendered = page.evaluate(
        """() => {
          const box = document.createElement('div');
          box.append(window.ChatWidget.renderMarkdown(
            'See [docs](javascript:alert(1)) and [x](  javascript:alert(1)) <script>window.__xss=1</script>\\n' +
            '1. [ok](http://example.com/a?b=1)\\n2. *it* **bold**\\n\\n' +
            '[data](data:text/html,<script>alert(1)</script>) https://voltmart.example/help.'));
          return {
            html: box.innerHTML,
            js: box.querySelectorAll('a[href^="javascript:" i], a[href^="data:" i]').length,
            links: [...box.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.target, a.rel]),
            tags: [...box.querySelectorAll('*')].map(n => n.tagName.toLowerCase()).sort(),
          };
        }"""
    )
    assert rendered["js"] == 0, rendered["html"]
    assert rendered["links"] == [
        ["http://example.com/a?b=1", "_blank", "noopener noreferrer"],
        ["https://voltmart.example/help", "_blank", "noopener noreferrer"],
    ], rendered["html"]
    assert set(rendered["tags"]) <= {"p", "br", "ol", "ul", "li", "a", "strong", "em"}, rendered["html"]
    assert "&lt;script&gt;" in rendered["html"]
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_mobile_panel_fills_the_screen(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo", viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    page.click(LAUNCHER)
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    panel.evaluate("n => Promise.all(n.getAnimations().map(a => a.finished))")  # the opening animation
    box = panel.bounding_box()
    assert box is not None
    assert abs(box["x"]) <= 1 and abs(box["y"]) <= 1, box
    assert abs(box["width"] - 375) <= 1 and abs(box["height"] - 700) <= 1, box
    # The composer is on screen and usable.
    input_box = page.locator(INPUT).bounding_box()
    assert input_box and input_box["y"] + input_box["height"] <= 700
    expect(page.locator(SEND)).to_be_in_viewport()


def test_keyboard_only(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset?.testid") == "vm-launcher":
            break
    else:
        pytest.fail("Tab never reached the launcher")
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", re.compile(r"chat", re.IGNORECASE))

    page.keyboard.press("Enter")
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-expanded", "true")

    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(page.locator(CUSTOMER).last).to_have_text("hello")
    page.locator(ANSWER).first.wait_for(timeout=REPLY_TIMEOUT)
    expect(page.locator(INPUT)).to_have_value("")
    expect(page.locator(f"{PANEL} [aria-live='polite']")).to_contain_text("VoltMart assistant")

    inside = "() => document.querySelector('[data-testid=\"vm-panel\"]').contains(document.activeElement)"
    seen = set()
    for key in ["Tab"] * 8 + ["Shift+Tab"] * 8:
        page.keyboard.press(key)
        assert page.evaluate(inside), f"focus left the open panel after {key}"
        seen.add(page.evaluate("() => document.activeElement.className || document.activeElement.tagName"))
    assert {"vm-close", "vm-input", "vm-send"} <= seen, seen

    page.keyboard.press("Escape")
    expect(page.locator(PANEL)).to_be_hidden()
    expect(page.locator(LAUNCHER)).to_be_focused()
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-expanded", "false")


def test_agent_messages_badge_and_feedback(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    console, handoff_id = hand_over_to_agent(page, stack, "widget-test-agent")

    page.keyboard.press("Escape")  # closed panel: a new agent message shows the unread badge
    expect(page.locator(BADGE)).to_be_hidden()
    console.reply(handoff_id, "Hi, I'm **Jana**. Let me look at that for you.")
    expect(page.locator(BADGE)).to_be_visible(timeout=40_000)
    expect(page.locator(BADGE)).to_have_text("1")
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", re.compile("1 new message"))

    page.click(LAUNCHER)
    expect(page.locator(BADGE)).to_be_hidden()
    message = page.locator(f'{MESSAGE}[data-sender="agent"]').last
    expect(message).to_contain_text("Jana Nováková")
    expect(message).to_contain_text("Support agent")
    expect(message.locator("strong")).to_have_text("Jana")
    bot_colour = page.locator(f'{MESSAGE}[data-sender="bot"] .vm-avatar').first.evaluate(
        "n => getComputedStyle(n).backgroundColor"
    )
    agent_colour = message.locator(".vm-avatar").evaluate("n => getComputedStyle(n).backgroundColor")
    assert bot_colour != agent_colour

    # The agent resolves in the console; the bot asks for a rating.
    assert console.resolve(handoff_id)["rating_prompt"] is True
    ratings = page.locator(f'{MESSAGE}[data-sender="bot"]').last.locator(QUICK_REPLY)
    expect(ratings).to_have_count(5, timeout=40_000)
    expect(page.locator(FEEDBACK)).to_be_hidden()

    ratings.nth(4).click()
    expect(page.locator(CUSTOMER).last).to_have_text("5")
    expect(page.locator(FEEDBACK)).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator(FEEDBACK)).to_be_focused()
    page.fill(FEEDBACK, "Quick and friendly, thanks!")
    page.keyboard.press("Enter")
    expect(page.locator(FEEDBACK)).to_be_hidden()
    expect(page.locator(PANEL)).to_contain_text("Your comment was sent")
    with session_scope(database_url(stack)) as db:
        handoff = db.get(Handoff, handoff_id)
        assert (handoff.csat, handoff.csat_comment) == (5, "Quick and friendly, thanks!")


def test_errors_are_inline_and_retries_send_once(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    alert = page.locator(f"{PANEL} [role='alert']")
    page.click(SEND)  # nothing typed
    expect(alert).to_contain_text("type a message")
    page.fill(INPUT, "x" * 2001)
    page.keyboard.press("Enter")
    expect(alert).to_contain_text("too long")
    expect(page.locator(CUSTOMER)).to_have_count(0)

    # Each gateway error once (413, 429, 503, a lost response), then the real gateway.
    plan = ["413", "429", "503", "lost"]
    seen: list[str] = []

    def gateway(route: Route) -> None:
        body = route.request.post_data_json
        seen.append(body["client_id"])
        step = plan.pop(0) if plan else "pass"
        if step == "413":
            route.fulfill(status=413, json={"error": "the message is too long"})
        elif step == "429":
            route.fulfill(status=429, json={"error": "too many messages; please wait a moment"})
        elif step == "503":
            route.fulfill(status=503, json={"error": "The assistant is restarting.", "messages": []})
        elif step == "lost":
            route.fetch(timeout=REPLY_TIMEOUT)  # the gateway stores and answers it...
            route.abort("connectionreset")  # ...but the browser never sees the answer
        else:
            route.continue_()

    page.route("**/api/chat", gateway)
    page.fill(INPUT, "hello")
    page.keyboard.press("Enter")
    expect(alert).to_contain_text("too long")
    expect(page.locator(INPUT)).to_have_value("hello")  # given back to edit
    expect(page.locator(CUSTOMER)).to_have_count(0)

    page.keyboard.press("Enter")
    status = page.locator(".vm-status")
    expect(status).to_contain_text("too quickly")
    status.get_by_role("button", name="Retry now").click()
    expect(status).to_contain_text("restarting")
    status.get_by_role("button", name="Retry now").click()
    expect(status).to_contain_text("Not sent yet", timeout=REPLY_TIMEOUT)
    page.locator(ANSWER).first.wait_for(timeout=REPLY_TIMEOUT)  # the automatic retry
    expect(status).to_be_hidden()
    expect(page.locator(CUSTOMER)).to_have_count(1)
    expect(page.locator(CUSTOMER).first).to_have_attribute("data-id", re.compile(r"^\d+$"))
    assert len(seen) >= 5 and len(set(seen[1:])) == 1, seen  # every retry reused the client_id
    stored = handoff_service(stack).messages.after(session_of(page))
    assert [m["text"] for m in stored if m["sender"] == "customer"] == ["hello"]
    page.unroute("**/api/chat")

    # Offline: a notice, and the message goes out by itself once the connection is back.
    page.context.set_offline(True)
    answers = page.locator(ANSWER).count()
    page.fill(INPUT, "where is my order")
    page.keyboard.press("Enter")
    expect(page.locator(f"{PANEL} [role='status']").first).to_contain_text("offline", timeout=15_000)
    expect(status.last).to_contain_text("Not sent yet")
    page.context.set_offline(False)
    page.locator(ANSWER).nth(answers).wait_for(timeout=REPLY_TIMEOUT)
    expect(page.locator(CUSTOMER)).to_have_count(2)
    expect(page.locator(f"{PANEL} .vm-notice")).to_be_hidden()
    expect(status.last).to_be_hidden()


def test_language_and_theme(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo", locale="sk-SK")
    expect(page.locator(LAUNCHER)).to_have_attribute("aria-label", "Otvoriť chat podpory VoltMart")
    page.click(LAUNCHER)
    expect(page.locator(INPUT)).to_have_attribute("placeholder", "Napíšte správu…")
    expect(page.locator(SEND)).to_have_attribute("aria-label", "Odoslať")

    background = (
        "() => getComputedStyle(document.querySelector('[data-testid=\"vm-panel\"]')).backgroundColor"
    )
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == "rgb(15, 23, 42)"
    page.evaluate("() => window.ChatWidget.setTheme('light')")  # what data-theme="light" does
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="light")
    page.evaluate("() => window.ChatWidget.setTheme('dark')")
    assert page.evaluate(background) == "rgb(15, 23, 42)"


def test_screenshots(new_page: Callable[..., Page], browser: Browser, stack: Stack) -> None:
    """docs/screenshots/widget-{desktop,mobile}-{light,dark}.png: /demo with a short conversation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    say(page, "what's the weather")
    set_agent_presence(stack, "widget-demo-agent", online=True)
    try:
        page.locator(QUICK_REPLY, has_text="Talk to a person").last.click()
        page.locator(ANSWER).nth(2).wait_for(timeout=REPLY_TIMEOUT)
        expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))
    finally:
        set_agent_presence(stack, "widget-demo-agent", online=False)
    handoff_id = queued_handoff(page, stack)
    console = console_offline(stack, "widget-demo-agent")
    console.claim(handoff_id)
    console.reply(handoff_id, "Hi, I'm Jana from the VoltMart team. How can I help you today?")
    expect(page.locator(f'{MESSAGE}[data-sender="agent"]')).to_have_count(1, timeout=40_000)
    page.fill(INPUT, "My headphones arrived with a broken case")  # a draft in the composer
    page.locator(INPUT).blur()

    def shoot(target: Page, name: str) -> None:
        target.mouse.move(5, 5)  # no hover effects in the pictures
        target.wait_for_timeout(500)
        target.locator(".vm-log").evaluate("n => { n.scrollTop = n.scrollHeight; }")
        target.wait_for_timeout(200)
        target.screenshot(path=str(SHOTS / f"widget-{name}.png"))

    shoot(page, "desktop-light")
    page.emulate_media(color_scheme="dark")
    shoot(page, "desktop-dark")

    state = page.context.storage_state()  # same conversation (session id in localStorage)
    mobile = browser.new_context(
        viewport={"width": 375, "height": 700},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        storage_state=state,
    )
    try:
        phone = mobile.new_page()
        phone.goto(stack.url + "/demo")
        open_panel(phone)
        expect(phone.locator(f'{MESSAGE}[data-sender="agent"]')).to_have_count(1)
        shoot(phone, "mobile-light")
        phone.emulate_media(color_scheme="dark")
        shoot(phone, "mobile-dark")
    finally:
        mobile.close()
        console.resolve(handoff_id)

    for name in ("desktop-light", "desktop-dark", "mobile-light", "mobile-dark"):
        assert (SHOTS / f"widget-{name}.png").stat().st_size > 10_000


def test_returning_visitor_with_closed_panel_makes_no_requests(
    new_page: Callable[..., Page], stack: Stack
) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    page.keyboard.press("Escape")  # closed, in bot mode: nothing can arrive that isn't an answer

    requests: list[str] = []
    sockets: list[str] = []

    def record(request: Request) -> None:
        # Only the reloaded page's requests: closing the panel may have sent the old socket's last
        # packet (a Socket.IO polling POST) just before, and its event can arrive after this listener.
        if request.is_navigation_request():
            requests.clear()
        requests.append(request.url)

    page.on("request", record)
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.reload()
    page.locator(LAUNCHER).wait_for()
    page.evaluate("() => window.ChatWidget.ready")
    loaded = len(requests)
    page.wait_for_timeout(4000)
    gateway = [url for url in requests if "/api/" in url or "/socket.io" in url or "socket.io.min.js" in url]
    assert gateway == [], gateway
    assert sockets == []
    assert requests[loaded:] == [], "requests after the widget was mounted"
    expect(page.locator(PANEL)).to_be_hidden()

    # Opening the panel loads the history and connects for pushed messages.
    page.click(LAUNCHER)
    expect(page.locator(CUSTOMER)).to_have_count(1)
    expect(page.locator(CUSTOMER).first).to_have_text("hello")
    page.wait_for_function("() => window.ChatWidget.connection.transport === 'socket'", timeout=15_000)
    assert any("/api/messages" in url for url in requests)
    deadline = time.monotonic() + 10
    while not sockets and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert any("/socket.io/" in url and "transport=websocket" in url for url in sockets), sockets  # upgraded


def test_refused_message_is_not_retried_and_later_ones_go_out(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    poisoned: list[str] = []
    held: list[Route] = []

    def gateway(route: Route) -> None:
        body = route.request.post_data_json
        if body["text"] == "poison":
            poisoned.append(body["client_id"])
            held.append(route)  # answered below, once the next message waits behind it
        else:
            route.continue_()

    page.route("**/api/chat", gateway)
    page.fill(INPUT, "poison")
    page.keyboard.press("Enter")
    page.fill(INPUT, "where is my order")
    page.keyboard.press("Enter")
    expect(page.locator(CUSTOMER)).to_have_count(3)
    page.wait_for_function("() => JSON.parse(localStorage.getItem('chat-widget:outbox') || '[]').length === 2")
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:  # the route handler runs here, once the request is made
        page.wait_for_timeout(100)
    assert len(held) == 1
    answers = page.locator(ANSWER).count()
    held[0].fulfill(status=422, json={"error": "this message can't be processed"})

    page.locator(ANSWER).nth(answers).wait_for(timeout=REPLY_TIMEOUT)
    alert = page.locator(f"{PANEL} [role='alert']")
    expect(alert).to_contain_text("couldn't be sent")
    expect(page.locator(INPUT)).to_have_value("poison")  # given back to edit
    expect(page.locator(CUSTOMER)).to_have_count(2)
    expect(page.locator(CUSTOMER).last).to_have_text("where is my order")
    expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))
    page.wait_for_timeout(5000)
    assert len(poisoned) == 1, poisoned
    outbox = page.evaluate("() => localStorage.getItem('chat-widget:outbox')")
    assert outbox is None, outbox
    stored = handoff_service(stack).messages.after(session_of(page))
    assert [m["text"] for m in stored if m["sender"] == "customer"] == ["hello", "where is my order"]

    page.reload()  # nothing comes back from storage
    open_panel(page)
    expect(page.locator(CUSTOMER)).to_have_count(2)
    page.wait_for_timeout(1500)
    assert len(poisoned) == 1, poisoned


def test_end_chat_forgets_the_conversation(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    end = page.locator('[data-testid="vm-end-chat"]')
    expect(end).to_be_hidden()  # nothing to end yet
    say(page, "hello")
    session = session_of(page)
    ended: list[dict] = []
    page.on(
        "request",
        lambda request: ended.append(request.post_data_json) if request.url.endswith("/api/session/end") else None,
    )

    end.click()
    dialog = page.locator('[data-testid="vm-end-dialog"]')
    expect(dialog).to_be_visible()
    expect(page.locator('[data-testid="vm-end-confirm"]')).to_be_focused()
    page.keyboard.press("Escape")  # changed my mind: the chat stays
    expect(dialog).to_be_hidden()
    expect(page.locator(PANEL)).to_be_visible()
    expect(end).to_be_focused()
    expect(page.locator(CUSTOMER)).to_have_count(1)

    end.click()
    page.locator('[data-testid="vm-end-confirm"]').click()
    expect(page.locator(MESSAGE)).to_have_count(0)
    expect(page.locator(PANEL)).to_contain_text("Chat ended")
    expect(page.locator(INPUT)).to_be_focused()
    page.wait_for_function("() => window.ChatWidget.sessionId === null")
    assert ended == [{"session_id": session}]
    # The gateway refuses the old id from now on: whoever uses this browser next can't read that chat.
    old = http_requests.get(f"{stack.url}/api/messages", params={"session_id": session}, timeout=10)
    assert old.status_code == 410, old.text
    stored = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('chat-widget:') && k !== 'chat-widget:seen')"
    )
    assert stored == [], stored

    page.reload()
    open_panel(page)
    expect(page.locator(MESSAGE)).to_have_count(0)
    say(page, "hello")
    assert session_of(page) != session


def test_blocked_push_falls_back_to_polling(new_page: Callable[..., Page], stack: Stack) -> None:
    # A proxy that blocks WebSocket: Socket.IO stays on its own HTTP long-polling.
    page = new_page("/demo")
    page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda socket: socket.close())
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_panel(page)
    console, handoff_id = hand_over_to_agent(page, stack, "widget-proxy-agent")
    console.reply(handoff_id, "Still here, through the proxy.")
    expect(page.locator(f'{MESSAGE}[data-sender="agent"]').last).to_contain_text("through the proxy", timeout=40_000)
    assert page.evaluate("() => window.ChatWidget.connection.transport") == "socket"
    assert any("/socket.io/" in url and "transport=polling" in url for url in requests)
    assert not any("/api/messages" in url and "wait=" in url for url in requests)
    console.resolve(handoff_id)

    # A proxy that blocks Socket.IO altogether: the widget long-polls GET /api/messages.
    page = new_page("/demo")
    page.route(re.compile(r".*/socket\.io/.*"), lambda route: route.abort())
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_panel(page)
    console, handoff_id = hand_over_to_agent(page, stack, "widget-proxy-agent")
    page.wait_for_function("() => window.ChatWidget.connection.transport === 'polling'", timeout=20_000)
    console.reply(handoff_id, "Still here, by long-polling.")
    expect(page.locator(f'{MESSAGE}[data-sender="agent"]').last).to_contain_text("by long-polling", timeout=40_000)
    assert any("/api/messages" in url and "wait=25" in url for url in requests)
    ids = message_ids(page)
    assert "pending" not in ids and len(ids) == len(set(ids))
    console.resolve(handoff_id)


def test_typing_both_ways(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    console, handoff_id = hand_over_to_agent(page, stack, "widget-typing-agent")
    live = console.watch(handoff_id)
    try:
        indicator = page.locator('[data-testid="vm-typing"]')
        wait_for_socket(page)  # typing is pushed, never stored: a widget still connecting would miss it
        live.typing(True)
        expect(indicator).to_be_visible()
        expect(indicator).to_contain_text("Jana Nováková is typing…")
        live.typing(False)
        expect(indicator).to_be_hidden()

        # The customer types in handoff mode: the agent hears it once per burst, then that it stopped.
        page.locator(INPUT).press_sequentially("Is it in stock", delay=60)
        live.wait_for(lambda event, data: event == "typing" and data == {"sender": "customer", "typing": True})
        live.wait_for(lambda event, data: event == "typing" and data == {"sender": "customer", "typing": False})
        started = [data for event, data in live.events if event == "typing" and data["typing"]]
        assert len(started) == 1, live.events

        live.typing(True)  # an agent message ends the indicator even without "stopped typing"
        expect(indicator).to_be_visible()
        console.reply(handoff_id, "Yes, it is.")
        expect(page.locator(f'{MESSAGE}[data-sender="agent"]').last).to_have_text(re.compile("Yes, it is."))
        expect(indicator).to_be_hidden()
    finally:
        live.close()
        console.resolve(handoff_id)


def test_assistant_reconnecting_is_shown_and_the_answer_is_pushed(new_page: Callable[..., Page], stack: Stack) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    notice = page.locator(f"{PANEL} .vm-notice")
    stack.kill("rasa")  # supervisord restarts it; meanwhile the gateway keeps the message
    try:
        page.fill(INPUT, "How long does delivery take?")
        page.keyboard.press("Enter")
        expect(notice).to_contain_text("The assistant is reconnecting", timeout=30_000)
        expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))
        assert page.evaluate("() => localStorage.getItem('chat-widget:outbox')") is None  # accepted (202)

        # Closed panel: the pending answer alone keeps the connection open, and it arrives.
        wait_for_socket(page)
        page.keyboard.press("Escape")
        page.wait_for_timeout(1000)
        assert page.evaluate("() => window.ChatWidget.connection.transport") == "socket"
        expect(page.locator(BADGE)).to_be_visible(timeout=240_000)
        page.wait_for_function("() => window.ChatWidget.connection.transport === 'none'", timeout=10_000)
    finally:
        stack.wait_healthy(240)
    page.click(LAUNCHER)
    expect(page.locator(f'{MESSAGE}[data-sender="bot"]').last).to_contain_text("business day")
    expect(notice).to_be_hidden()
    expect(page.locator(CUSTOMER)).to_have_count(2)
    stored = handoff_service(stack).messages.after(session_of(page))
    assert [m["text"] for m in stored if m["sender"] == "customer"] == ["hello", "How long does delivery take?"]
    assert len([m for m in stored if m["sender"] == "bot" and "business day" in m["text"]]) == 1


def test_embedded_on_a_shop_on_another_origin(browser: Browser, stack: Stack) -> None:
    """The one <script> tag on a shop's own origin, under a strict CSP that allows only the gateway."""
    gateway = stack.url
    websocket = gateway.replace("http://", "ws://")
    policy = f"default-src 'self'; script-src {gateway}; style-src {gateway}; connect-src {gateway} {websocket}"
    shop_page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title></head>"
        f"<body><h1>A shop</h1><script src='{gateway}/static/widget/chat-widget.js' defer></script></body></html>"
    ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(shop_page)

        def log_message(self, *_args: object) -> None:
            pass

    shop = ThreadingHTTPServer(("127.0.0.1", stack.shop_port), Shop)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.goto(f"{stack.shop_origin}/products/kettle")
        page.locator(LAUNCHER).wait_for()
        open_panel(page)
        console, handoff_id = hand_over_to_agent(page, stack, "widget-shop-agent")
        console.reply(handoff_id, "Hello from the support team.")
        expect(page.locator(f'{MESSAGE}[data-sender="agent"]').last).to_contain_text("from the support team", timeout=40_000)
        assert page.evaluate("() => window.ChatWidget.connection.transport") == "socket"
        assert any(url.startswith(websocket) and "/socket.io/" in url for url in sockets), sockets
        assert violations == [], violations
        console.resolve(handoff_id)
    finally:
        context.close()
        shop.shutdown()
        shop.server_close()


def test_a_page_on_an_origin_not_allowed_is_told_why_and_the_gateway_says_which_setting(
    browser: Browser, stack: Stack
) -> None:
    """Not in allowed_origins: a plain message instead of "reconnecting" forever, no chat requests,
    and one warning in the gateway's log naming the setting to change."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    page_html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Other shop</title></head>"
        f"<body><h1>Not allowed</h1><script src='{stack.url}/static/widget/chat-widget.js' defer></script></body></html>"
    ).encode()

    class OtherShop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), OtherShop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        chat_calls: list[str] = []
        page.on("request", lambda r: chat_calls.append(r.url) if "/api/session" in r.url or "/socket.io/" in r.url else None)
        page.goto(f"{origin}/")
        page.locator(LAUNCHER).wait_for()
        open_panel(page)
        notice = page.locator(".vm-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("isn't available on this website")
        expect(page.locator(INPUT)).to_be_disabled()
        page.wait_for_timeout(2000)
        assert "Reconnecting" not in page.locator(PANEL).inner_text()
        assert chat_calls == [], chat_calls
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and f"widget refused on origin {origin}" not in stack.tail("gateway", 400):
            time.sleep(0.2)
        log = stack.tail("gateway", 400)
        assert f"widget refused on origin {origin}" in log and "allowed_origins in shop.yml" in log, log[-2000:]
        assert log.count(f"widget refused on origin {origin}") == 1  # once per origin, not per request
    finally:
        context.close()
        server.shutdown()
        server.server_close()
