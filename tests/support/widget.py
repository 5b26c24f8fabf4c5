"""Driving the chat widget in a Playwright page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

LAUNCHER = '[data-testid="vm-launcher"]'
INPUT = '[data-testid="vm-input"]'


def open_chat(page: Page) -> None:
    """Open the chat panel once the widget has mounted.

    A page may open the widget by itself (data-open="true" on /). Checking before it has
    mounted and then clicking the launcher closed the panel it had just opened.
    """
    page.locator(LAUNCHER).wait_for()
    page.wait_for_function("() => window.ChatWidget && window.ChatWidget.ready", timeout=30_000)
    page.evaluate("() => window.ChatWidget.ready.then(() => true)")
    if page.locator(LAUNCHER).get_attribute("aria-expanded") != "true":
        page.locator(LAUNCHER).click()
    expect(page.locator(INPUT)).to_be_visible()
