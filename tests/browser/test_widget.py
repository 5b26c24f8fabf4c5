"""The customer chat widget in headless chromium against the real stack (Rasa, actions, gateway).

Also writes the README screenshots to docs/screenshots/ (test_screenshots).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService
from bot.messages.log import MessageLog
from bot.settings import HandoffSettings
from bot.web.chat import bot_messages_to_store
from bot.web.rasa_client import RasaClient
from tests.support.stack import ROOT, Stack

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
    if not page.locator(PANEL).is_visible():
        page.click(LAUNCHER)
    expect(page.locator(PANEL)).to_be_visible()


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
    session = page.evaluate("() => window.VoltMartWidget.sessionId")
    assert session, "the widget has no session yet"
    return session


def database_url(stack: Stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{Path(stack.env['BOT_VAR_DIR']) / 'app.db'}"


def handoff_service(stack: Stack) -> HandoffService:
    return HandoffService(database_url(stack), HandoffSettings(hours="always"), MessageLog(database_url(stack)))


def set_agent_presence(stack: Stack, username: str, online: bool) -> SimpleNamespace:
    url = database_url(stack)
    agents.upsert_agent(url, username, "correct horse battery staple", "Jana Nováková")
    with session_scope(url) as db:
        agent = db.execute(select(Agent).where(Agent.username == username)).scalar_one()
        agent.last_seen_at = datetime.now(UTC).replace(tzinfo=None) if online else None
        return SimpleNamespace(id=agent.id, display_name=agent.display_name)


def hand_over_to_agent(page: Page, stack: Stack, username: str) -> tuple[SimpleNamespace, int]:
    """Ask for a person while an agent is online; the agent claims the conversation."""
    agent = set_agent_presence(stack, username, online=True)
    try:
        say(page, "I want to talk to a person")
    finally:
        set_agent_presence(stack, username, online=False)  # other tests expect nobody online
    service = handoff_service(stack)
    handoff = service.active_handoff(session_of(page))
    assert handoff is not None and handoff.status == "queued", "no queued handoff after asking for a person"
    service.claim(handoff.id, agent.id)
    return agent, handoff.id


# --- tests -----------------------------------------------------------------------
def test_history_survives_reload_without_duplicates(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo")
    expect(page.locator(PANEL)).to_be_hidden()
    page.click(LAUNCHER)
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()

    say(page, "hello")
    expect(page.locator(f'{MESSAGE}[data-sender="bot"]').first).to_contain_text("VoltMart assistant")
    time.sleep(1.5)  # let the long-poll deliver the same messages again: they must be deduplicated
    before = message_ids(page)
    texts = page.locator(MESSAGE).all_inner_texts()
    assert "pending" not in before and len(before) == len(set(before)) >= 2

    page.reload()
    open_panel(page)
    expect(page.locator(MESSAGE)).to_have_count(len(before))
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

    # A stored agent message with hostile Markdown arrives through the long-poll.
    hostile = (
        "**Hi** [click](javascript:window.__xss=1) [again](JaVaScRiPt:alert(1)) "
        '<img src=x onerror="window.__xss=1">\n- [safe](https://voltmart.example/returns)'
    )
    handoff_service(stack).messages.record(session_of(page), "agent", hostile, agent_name="<b>Mallory</b>")
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
          box.append(window.VoltMartWidget.renderMarkdown(
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
    page.wait_for_timeout(400)  # the opening animation
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
    agent, handoff_id = hand_over_to_agent(page, stack, "widget-test-agent")
    service = handoff_service(stack)
    session = session_of(page)

    page.keyboard.press("Escape")  # closed panel: a new agent message shows the unread badge
    expect(page.locator(BADGE)).to_be_hidden()
    service.agent_reply(handoff_id, agent, "Hi, I'm **Jana**. Let me look at that for you.")
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

    # The agent resolves; the bot asks for a rating (what the agent console does on resolve).
    service.resolve(handoff_id, agent.id)
    rasa = RasaClient(f"http://127.0.0.1:{stack.rasa_port}", token=stack.env["RASA_TOKEN"])
    for reply in bot_messages_to_store(rasa.resume_and_run(session, "action_ask_rating")):
        service.messages.record(session, "bot", reply["text"], buttons=reply["buttons"])
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
    page.evaluate("() => window.VoltMartWidget.setTheme('light')")  # what data-theme="light" does
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="light")
    page.evaluate("() => window.VoltMartWidget.setTheme('dark')")
    assert page.evaluate(background) == "rgb(15, 23, 42)"


def test_screenshots(new_page: Callable[..., Page], browser: Browser, stack: Stack) -> None:
    """docs/screenshots/widget-{desktop,mobile}-{light,dark}.png: /demo with a short conversation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    say(page, "what's the weather")
    agent = set_agent_presence(stack, "widget-demo-agent", online=True)
    try:
        page.locator(QUICK_REPLY, has_text="Talk to a person").last.click()
        page.locator(ANSWER).nth(2).wait_for(timeout=REPLY_TIMEOUT)
        expect(page.locator(CUSTOMER).last).to_have_attribute("data-id", re.compile(r"^\d+$"))
    finally:
        set_agent_presence(stack, "widget-demo-agent", online=False)
    service = handoff_service(stack)
    handoff = service.active_handoff(session_of(page))
    assert handoff is not None
    service.claim(handoff.id, agent.id)
    service.agent_reply(handoff.id, agent, "Hi, I'm Jana from the VoltMart team. How can I help you today?")
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
        service.resolve(handoff.id, agent.id)

    for name in ("desktop-light", "desktop-dark", "mobile-light", "mobile-dark"):
        assert (SHOTS / f"widget-{name}.png").stat().st_size > 10_000
