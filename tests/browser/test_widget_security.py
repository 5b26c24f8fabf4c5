"""The widget's side of issue 13: refused messages are dropped with a notice, not retried for
ever; an expired chat starts afresh; "End chat" clears the chat and the verified identity."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.test_widget import (
    ANSWER,
    CUSTOMER,
    INPUT,
    PANEL,
    QUICK_REPLY,
    new_page,
    open_panel,
    say,
    session_of,
)
from tests.support import files
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.stack]
__all__ = ["new_page"]  # the fixture, shared with test_widget.py


def chat_requests(page: Page) -> list[int]:
    """Status codes of every /api/chat request the page makes, in order."""
    codes: list[int] = []
    page.on("response", lambda r: codes.append(r.status) if r.url.endswith("/api/chat") else None)
    return codes


def test_a_refused_message_is_dropped_with_a_notice_and_blocks_nothing(new_page: Callable[..., Page]) -> None:
    page = new_page("/demo")
    codes = chat_requests(page)
    open_panel(page)
    say(page, "hello")
    # A lone UTF-16 surrogate: the gateway refuses it with a 400.
    page.evaluate("sel => { const i = document.querySelector(sel); i.value = 'bad \\ud800 text'; }", INPUT)
    page.locator(INPUT).press("Enter")
    alert = page.locator(f"{PANEL} [role='alert']")
    expect(alert).to_contain_text("couldn't be sent")
    page.wait_for_timeout(5000)  # long enough for the widget's first retries, if it made any
    assert codes.count(400) == 1, codes
    assert (
        page.evaluate("() => JSON.parse(localStorage.getItem('chat-widget:outbox') || '[]').length") == 0
    )
    page.fill(INPUT, "")
    say(page, "How long does delivery take?")  # the next message is not stuck behind it
    expect(page.locator(CUSTOMER)).to_have_count(2)


def test_end_chat_clears_the_chat_and_the_verified_identity(
    new_page: Callable[..., Page], stack: Stack
) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "where is my order 617245?")
    say(page, "ivan.petrov@example.ru")
    expect(page.locator(ANSWER).last).to_contain_text("617245")
    ended = session_of(page)
    page.get_by_test_id("vm-end-chat").click()
    page.get_by_test_id("vm-end-confirm").click()  # "End this chat?" is asked in the panel first
    expect(page.get_by_test_id("vm-info")).to_contain_text("Chat ended")
    expect(page.locator(CUSTOMER)).to_have_count(0)
    expect(page.locator(ANSWER)).to_have_count(0)
    assert page.evaluate("() => window.ChatWidget.sessionId") in (None, "")
    page.wait_for_function(
        "sid => fetch('/api/messages?session_id=' + sid).then(r => r.status === 410)",
        arg=ended,
        timeout=10_000,
    )
    # The next person at this computer: a new chat, which knows no verified email.
    page.reload()
    open_panel(page)
    expect(page.locator(CUSTOMER)).to_have_count(0)
    say(page, "where is my order?")
    expect(page.locator(ANSWER).last).to_contain_text("order number")
    assert session_of(page) != ended


def test_an_expired_chat_starts_afresh_and_keeps_the_message(
    new_page: Callable[..., Page], stack: Stack
) -> None:
    page = new_page("/demo")
    open_panel(page)
    say(page, "hello")
    expired = session_of(page)
    with sqlite3.connect(Path(stack.env["BOT_VAR_DIR"]) / "app.db", timeout=15) as db:
        db.execute(
            "UPDATE conversations SET last_activity_at = datetime('now', '-1 day') WHERE id = ?", (expired,)
        )
    assert (
        requests.get(f"{stack.url}/api/messages", params={"session_id": expired}, timeout=10).status_code
        == 410
    )
    page.fill(INPUT, "How long does delivery take?")
    page.locator(INPUT).press("Enter")
    expect(page.get_by_test_id("vm-info")).to_contain_text("previous chat has ended")
    page.locator(ANSWER).last.wait_for()
    expect(page.locator(CUSTOMER)).to_have_count(1)  # the old chat is gone, the new message is kept
    expect(page.locator(CUSTOMER).first).to_have_text("How long does delivery take?")
    assert session_of(page) != expired


def test_hostile_files_are_refused_in_the_customers_language_and_a_photo_gets_an_honest_answer(
    new_page: Callable[..., Page],
) -> None:
    page = new_page("/demo", locale="sk-SK")
    open_panel(page)
    chooser = page.get_by_test_id("vm-file-input")
    alert = page.locator(f"{PANEL} [role='alert']")
    refused = "Poslať sa dajú iba fotky (JPEG, PNG, WebP, GIF) a dokumenty PDF."
    for name, mime, data in (
        ("macka.svg", "image/svg+xml", files.SVG_WITH_SCRIPT),
        ("fotka.png", "image/png", files.HTML_AS_PNG),
        ("fotky.zip", "application/zip", files.zip_bomb(20)),
    ):
        chooser.set_input_files({"name": name, "mimeType": mime, "buffer": data})
        expect(alert).to_have_text(refused)
        page.evaluate("sel => { document.querySelector(sel).textContent = ''; }", f"{PANEL} [role='alert']")
    expect(page.locator(CUSTOMER)).to_have_count(0)  # nothing shown as sent, nothing stored
    assert page.evaluate("() => window.__xss") is None
    # A real photo while the bot has the chat: stored, shown, and the bot says it can't look at it.
    chooser.set_input_files({"name": "kanvica.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg_with_exif()})
    expect(page.get_by_test_id("vm-attachment-image")).to_be_visible()
    expect(page.locator(ANSWER).last).to_contain_text("Fotky ani dokumenty si sám pozrieť neviem")
    expect(page.locator(QUICK_REPLY, has_text="Áno, prosím kolegu")).to_be_visible()
