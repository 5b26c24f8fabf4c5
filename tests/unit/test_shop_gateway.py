"""The gateway serves the shop of its profile: /api/shop, embedding refusals, pages, stored texts."""

from __future__ import annotations

import logging

import pytest

from bot.web import create_app
from tests.conftest import build_test_services
from tests.support.shops import write_coffee_shop


@pytest.fixture()
def coffee(tmp_path):
    shop = write_coffee_shop(tmp_path / "kavicka")
    services = build_test_services(tmp_path, SHOP_DIR=str(shop), ALLOWED_ORIGINS="https://extra.example",
                                   RASA_URL="http://127.0.0.1:9")  # fmt: skip
    yield services, create_app(services).test_client()
    services.close()


def test_api_shop_gives_the_widget_the_shop_and_whether_the_page_may_embed_it(coffee, caplog) -> None:
    _, client = coffee
    allowed = client.get("/api/shop", headers={"Origin": "https://kavicka.example"})
    body = allowed.get_json()
    assert body["name"] == "Kávička" and body["languages"] == ["sk", "hu"]
    assert body["colours"]["primary"] == "#6f4e37" and body["locales"] == {"sk": "sk-SK", "hu": "hu-HU"}
    assert body["chat_hours"]["sk"].startswith("po–pi 7:00–18:00")
    assert body["embedding"] == {"allowed": True}
    assert client.get("/api/shop", headers={"Origin": "https://extra.example"}).get_json()["embedding"]["allowed"]
    assert client.get("/api/shop").get_json()["embedding"]["allowed"]  # same origin / no browser
    with caplog.at_level(logging.WARNING, logger="bot.web.embedding"):
        refused = client.get("/api/shop", headers={"Origin": "https://elsewhere.example"})
        client.post("/api/session", headers={"Origin": "https://elsewhere.example"})
        client.get("/api/shop", headers={"Origin": "https://elsewhere.example"})
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # public facts: the page learns why
    assert refused.get_json()["embedding"]["allowed"] is False
    assert "allowed_origins in shop.yml" in refused.get_json()["embedding"]["hint"]
    warnings = [r.getMessage() for r in caplog.records if "elsewhere.example" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once per origin
    assert "allowed_origins in shop.yml (or to ALLOWED_ORIGINS)" in warnings[0]


def test_pages_and_console_name_the_shop(coffee) -> None:
    _, client = coffee
    for path in ("/", "/demo", "/agent/login"):
        page = client.get(path).get_data(as_text=True)
        assert "Kávička" in page and "voltmart" not in page.lower(), path
    console = client.get("/agent/login").get_data(as_text=True)
    assert "po–pi 7:00–18:00, so 8:00–12:00" in console and "background: #6f4e37" in console


def test_texts_are_stored_with_the_shops_facts_in_the_conversations_language(coffee) -> None:
    services, _ = coffee
    conversation = services.messages.open_session(language="hu")
    stored, _ = services.messages.record(
        conversation, "system", "{{ shop.name }}: {{ shop.refund_days }} nap, {{ shop.free_shipping_over }}",
        buttons=[{"title": "{{ shop.contact_email }}", "payload": "/x"}],
    )  # fmt: skip
    assert stored["text"] == "Kávička: 7 nap, 40\xa0EUR"
    assert stored["buttons"][0]["title"] == "ahoj@kavicka.example"
    customer, _ = services.messages.record(conversation, "customer", "{{ shop.name }}")
    assert customer["text"] == "{{ shop.name }}"  # a customer's words are theirs
