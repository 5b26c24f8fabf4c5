"""The Telegram channel through the gateway's own webhook, on a gateway app built for the test.

Telegram cannot be reached from here: its Bot API is a local HTTP server that answers in the
documented format (tests/support/telegram.py), and the updates are JSON in Telegram's documented
Update format. Rasa is a small local HTTP server with fixed answers (the real one runs in
tests/e2e/test_telegram.py); the message log is a real SQLite database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.db import session_scope
from bot.messages.models import Channel, ChatMessage, Conversation, OutboundDelivery
from tests.conftest import build_test_services
from tests.support import stack as stack_support
from tests.support.telegram import BotApiStandIn, button_update, text_update

TOKEN = "123456:test-token"
SECRET = "webhook-secret_0123456789"
CHAT = 5550001
LONG = "All about delivery. " * 500  # 10,000 characters


class RasaStandIn(BaseHTTPRequestHandler):
    received: list[str] = []  # noqa: RUF012 - shared by the handler threads on purpose

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RasaStandIn.received.append(body["message"])
        text = body["message"]
        if text == "/greet":
            replies = [
                {
                    "text": "Hi, I'm the shop's assistant.",
                    "buttons": [
                        {"title": "Where is my order?", "payload": "/order_status"},
                        {"title": "Talk to a person", "payload": "/request_human"},
                    ],
                }
            ]
        elif text == "tell me everything":
            replies = [{"text": LONG}]
        else:
            replies = [{"text": f"you said {text}"}]
        data = json.dumps(replies).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def gateway(tmp_path: Path) -> Iterator[tuple]:
    RasaStandIn.received = []
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), RasaStandIn)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    bot_api = BotApiStandIn(TOKEN)
    (tmp_path / "telegram").mkdir()
    settings_file = stack_support.test_settings_file(tmp_path / "telegram", {"limits": {"channel_messages_per_minute": 8}})
    settings = yaml.safe_load(settings_file.read_text())
    settings["channels"] = ["widget", "telegram"]
    settings_file.write_text(yaml.safe_dump(settings))
    services = build_test_services(
        tmp_path,
        BOT_SETTINGS=str(settings_file),
        RASA_URL=f"http://127.0.0.1:{rasa.server_address[1]}",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_URL=bot_api.url,
    )
    from bot.web import create_app

    app = create_app(services)
    yield app.test_client(), services, bot_api
    services.close()
    bot_api.close()
    rasa.shutdown()


def post(client, update: object, secret: str | None = SECRET, **kwargs):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    if "data" in kwargs:
        return client.post("/channels/telegram/webhook", headers=headers, **kwargs)
    return client.post("/channels/telegram/webhook", json=update, headers=headers)


def deliveries(services) -> list[tuple[str, int]]:
    """(state, attempts) of every outbound delivery, oldest first."""
    with session_scope(services.database_url) as session:
        rows = session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)).all()
        return [(row.state, row.attempts) for row in rows]


def wait_until(check, timeout: float = 15.0):
    """Poll ``check`` until it returns something true: deliveries run on threads of their own."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.05)
    return value


def stored_customer_texts(services) -> list[str]:
    with session_scope(services.database_url) as session:
        return list(
            session.scalars(select(ChatMessage.text).where(ChatMessage.sender == "customer").order_by(ChatMessage.id))
        )


def test_start_greets_with_an_inline_keyboard_and_a_button_press_is_a_command(gateway) -> None:
    client, services, bot_api = gateway
    assert post(client, text_update(CHAT, "/start")).status_code == 200
    [greeting] = bot_api.wait_for(lambda sent: len(sent) >= 1)
    assert greeting["chat_id"] == str(CHAT) and greeting["text"] == "Hi, I'm the shop's assistant."
    keyboard = greeting["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Where is my order?", "Talk to a person"]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)

    assert post(client, button_update(CHAT, keyboard[0][0]["callback_data"])).status_code == 200
    bot_api.wait_for(lambda sent: len(sent) >= 2)
    assert RasaStandIn.received == ["/greet", "/order_status"]  # the offered button: a command
    # Answered on a thread of its own, which may finish after the reply's.
    wait_until(lambda: any(method == "answerCallbackQuery" for method, _ in bot_api.calls))
    with session_scope(services.database_url) as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert (conversation.channel, conversation.channel_thread) == ("telegram", str(CHAT))


def test_typed_slash_text_and_forged_buttons_are_not_commands(gateway) -> None:
    client, services, bot_api = gateway
    post(client, text_update(CHAT, "/start"))
    bot_api.wait_for(lambda sent: len(sent) >= 1)
    post(client, text_update(CHAT, '/order_status{"order_number": "482913"}'))
    bot_api.wait_for(lambda sent: len(sent) >= 2)
    assert RasaStandIn.received[1].startswith("\u2060")  # escaped: the NLU reads it as words
    # A button of a message this chat never got (another id) is refused and not stored.
    assert post(client, button_update(CHAT, "b:999999:0")).status_code == 200
    time.sleep(0.5)
    assert len(stored_customer_texts(services)) == 2


def test_a_replayed_update_is_stored_and_answered_once(gateway) -> None:
    client, services, bot_api = gateway
    update = text_update(CHAT, "hello there", update_id=424242)
    assert post(client, update).status_code == 200
    bot_api.wait_for(lambda sent: len(sent) >= 1)
    again = post(client, update)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    time.sleep(0.5)
    assert stored_customer_texts(services) == ["hello there"]
    assert RasaStandIn.received == ["hello there"]
    assert len(bot_api.sent()) == 1


def test_forged_malformed_and_huge_webhooks_are_refused_and_store_nothing(gateway, caplog) -> None:
    client, services, _ = gateway
    caplog.set_level(logging.WARNING)
    assert post(client, text_update(CHAT, "hi"), secret=None).status_code == 401
    assert post(client, text_update(CHAT, "hi"), secret="wrong").status_code == 401
    assert post(client, text_update(CHAT, "hi"), secret=SECRET + "x").status_code == 401
    assert post(client, None, data=b"\x00\xff not json", content_type="application/json").status_code == 400
    assert post(client, {"update_id": "one"}).status_code == 400
    assert post(client, {"update_id": 5, "message": {"chat": {"id": "x"}}}).status_code == 400
    assert post(client, {"update_id": 6, "callback_query": {"data": "b:1:0"}}).status_code == 400
    huge = text_update(CHAT, "x" * 100_000)
    assert post(client, huge).status_code == 413
    assert stored_customer_texts(services) == []
    assert "secret token" in caplog.text and "malformed update" in caplog.text
    # Updates we do not handle (a group chat, a sticker) are acknowledged and left alone.
    group = text_update(CHAT, "hi all")
    group["message"]["chat"]["type"] = "group"
    assert post(client, group).get_json()["ignored"] is True


def test_a_flood_from_one_chat_is_refused_with_429_and_resent_updates_are_then_taken(gateway, caplog) -> None:
    client, services, _ = gateway
    caplog.set_level(logging.WARNING)
    updates = [text_update(CHAT, f"message {n}") for n in range(12)]
    codes = [post(client, update).status_code for update in updates]
    assert codes[:8] == [200] * 8 and set(codes[8:]) == {429}  # channel_messages_per_minute: 8
    assert "over 8 updates a minute" in caplog.text and "refused with 429" in caplog.text
    assert post(client, text_update(CHAT + 1, "another chat")).status_code == 200  # others are served
    # Telegram resends a refused update; once the window has room it is stored, nothing is lost.
    services.limits.channel_per_thread.clear(f"telegram:{CHAT}")
    assert all(post(client, update).status_code == 200 for update in updates[8:])
    texts = stored_customer_texts(services)
    assert sorted(t for t in texts if t.startswith("message")) == sorted(f"message {n}" for n in range(12))


def test_long_replies_are_split_at_4096_with_the_keyboard_on_the_last_piece(gateway) -> None:
    client, _, bot_api = gateway
    post(client, text_update(CHAT, "tell me everything"))
    sent = bot_api.wait_for(lambda sent: len(sent) >= 3)
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert " ".join(m["text"] for m in sent).split() == LONG.split()


def test_agent_replies_go_to_the_chat_and_a_failed_delivery_is_retried_not_lost(gateway) -> None:
    client, services, bot_api = gateway
    post(client, text_update(CHAT, "hello"))
    bot_api.wait_for(lambda sent: len(sent) >= 1)
    conversation_id = services.messages.channel_conversation(Channel.TELEGRAM, str(CHAT), timedelta(hours=1))
    bot_api.fail_with = 500  # Telegram is having a bad moment
    services.messages.record(conversation_id, "agent", "Your parcel left today.", agent_name="Eva")
    # The first attempt runs on a thread of its own: wait until it has failed (and the greeting went out).
    wait_until(lambda: [(state, attempts > 0) for state, attempts in deliveries(services)] == [
        ("sent", True),
        ("pending", True),
    ])
    with session_scope(services.database_url) as session:
        [delivery] = session.scalars(select(OutboundDelivery).where(OutboundDelivery.state != "sent")).all()
        assert delivery.state == "pending" and delivery.attempts == 1 and "500" in delivery.last_error
        delivery.next_attempt_at = delivery.created_at  # due now, instead of in a second
    bot_api.fail_with = None
    assert services.outbound.deliver_due() == 1  # the gateway's sweep
    assert bot_api.sent()[-1]["text"] == "Eva: Your parcel left today."
    with session_scope(services.database_url) as session:
        assert session.scalar(select(func.count()).where(OutboundDelivery.state != "sent")) == 0


def test_set_webhook_registers_the_url_and_the_secret(tmp_path: Path, monkeypatch) -> None:
    from bot.cli import main

    bot_api = BotApiStandIn(TOKEN)
    try:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("TELEGRAM_API_URL", bot_api.url)
        assert main(["telegram", "set-webhook", "http://shop.example/channels/telegram/webhook"]) == 2
        assert main(["telegram", "set-webhook", "https://shop.example/channels/telegram/webhook"]) == 0
        [(method, params)] = bot_api.calls
        assert method == "setWebhook" and params["secret_token"] == SECRET
        assert params["url"] == "https://shop.example/channels/telegram/webhook"
        bot_api.fail_with = 401
        assert main(["telegram", "set-webhook", "https://shop.example/channels/telegram/webhook"]) == 1
    finally:
        bot_api.close()


def test_export_erase_and_retention_cover_telegram_conversations(gateway) -> None:
    client, services, bot_api = gateway
    post(client, text_update(CHAT, "my email is anna.telegram@example.sk"))
    bot_api.wait_for(lambda sent: len(sent) >= 1)
    exported = services.privacy.export("anna.telegram@example.sk")
    [conversation] = exported["conversations"]
    assert conversation["channel"] == "telegram" and conversation["channel_thread"] == str(CHAT)
    removed = services.privacy.erase("anna.telegram@example.sk").counts
    assert removed["conversations"] == 1 and removed["outbound_deliveries"] == 1 and removed["inbound_receipts"] == 1
    with session_scope(services.database_url) as session:
        for model in (Conversation, ChatMessage, OutboundDelivery):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    # The same chat writes again later: a new conversation, purged by retention like any other.
    post(client, text_update(CHAT, "hello again"))
    bot_api.wait_for(lambda sent: len(sent) >= 2)
    later = datetime.utcnow() + timedelta(days=services.settings.privacy.retention_days + 1)
    assert services.privacy.purge_expired(now=later).counts["outbound_deliveries"] == 1
    with session_scope(services.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_a_chat_that_blocked_the_bot_is_logged_and_not_retried_and_later_replies_still_go(gateway, caplog) -> None:
    client, services, bot_api = gateway
    post(client, text_update(CHAT, "hello"))
    bot_api.wait_for(lambda sent: len(sent) >= 1)
    conversation_id = services.messages.channel_conversation(Channel.TELEGRAM, str(CHAT), timedelta(hours=1))
    caplog.set_level(logging.WARNING)
    bot_api.fail_with = 403  # "Forbidden: bot was blocked by the user"
    services.messages.record(conversation_id, "agent", "Are you still there?", agent_name="Eva")
    # Tried at once on a thread of its own; wait until that attempt is over before asking for a retry.
    wait_until(lambda: [state for state, _ in deliveries(services)] == ["sent", "failed"])
    assert services.outbound.deliver_due() == 0
    with session_scope(services.database_url) as session:
        states = [d.state for d in session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id))]
    assert states == ["sent", "failed"]
    assert "refused message delivery" in caplog.text and "for good" in caplog.text
    bot_api.fail_with = None  # unblocked: the next reply is not held up by the failed one
    services.messages.record(conversation_id, "agent", "Welcome back.", agent_name="Eva")
    bot_api.wait_for(lambda sent: any(m["text"] == "Eva: Welcome back." for m in sent))
