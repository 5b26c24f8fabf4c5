"""Telegram on the real stack: Rasa, the action server and the gateway run; only Telegram is a
stand-in. Its Bot API is a local HTTP server answering in the documented format
(tests/support/telegram.py) and the updates posted to the gateway's webhook are JSON in
Telegram's documented Update format, because Telegram cannot be reached from here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import func, select

from tests.support.console import AgentConsole, agents_offline
from tests.support.stack import Stack
from tests.support.telegram import BotApiStandIn, button_update, text_update

pytestmark = pytest.mark.stack
PASSWORD = "telegram agent password"


@pytest.fixture(scope="module")
def bot_api(stack: Stack) -> Iterator[BotApiStandIn]:
    stand_in = BotApiStandIn(stack.telegram_token, port=stack.telegram_api_port)
    yield stand_in
    stand_in.close()


def database_url(stack: Stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{stack.workdir / 'var' / 'app.db'}"


class TelegramChat:
    """One customer's private chat with the shop's bot."""

    def __init__(self, stack: Stack, bot_api: BotApiStandIn) -> None:
        self.stack, self.bot_api = stack, bot_api
        self.chat_id = 800_000_000 + secrets.randbelow(100_000_000)

    def post(self, update: dict) -> requests.Response:
        return requests.post(
            f"{self.stack.url}/channels/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": self.stack.telegram_secret},
            timeout=30,
        )

    def received(self) -> list[dict]:
        return self.bot_api.sent(self.chat_id)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every reply stored for this chat went out (sent one by one, in the background).

        An answer's messages are stored together, so once one of them arrived this waits for the rest.
        """
        from bot.db import session_scope
        from bot.messages.models import Conversation, OutboundDelivery

        deadline = time.monotonic() + timeout
        while True:
            with session_scope(database_url(self.stack)) as session:
                unsent = session.scalar(
                    select(func.count())
                    .select_from(OutboundDelivery)
                    .join(Conversation, Conversation.id == OutboundDelivery.conversation_id)
                    .where(
                        Conversation.channel == "telegram",
                        Conversation.channel_thread == str(self.chat_id),
                        OutboundDelivery.state.in_(("pending", "sending")),
                    )
                )
            if not unsent:
                return
            assert time.monotonic() < deadline, f"{unsent} replies to chat {self.chat_id} not sent in {timeout} s"
            time.sleep(0.2)

    def send(self, update: dict, expect: str, timeout: float = 90.0) -> list[dict]:
        """Post the update; the messages the chat gets until one contains ``expect``, and the rest of that answer."""
        before = len(self.received())
        response = self.post(update)
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = self.received()[before:]
            if any(expect in message["text"] for message in new):
                self.settle()  # the rest of this answer
                return self.received()[before:]
            time.sleep(0.2)
        raise AssertionError(f"no message with {expect!r}; the chat got {self.received()[before:]}")

    def say(self, text: str, expect: str) -> list[dict]:
        return self.send(text_update(self.chat_id, text), expect)

    @staticmethod
    def button(messages: list[dict], title: str) -> str:
        for message in messages:
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == title:
                        return button["callback_data"]
        raise AssertionError(f"no button {title!r} in {messages}")


def test_order_status_with_buttons_then_a_person_answers_in_the_chat(
    stack: Stack, bot_api: BotApiStandIn
) -> None:
    from bot.db import session_scope
    from bot.handoff.agents import authenticate, set_presence, upsert_agent
    from bot.handoff.models import Handoff
    from bot.messages.models import Conversation

    url = database_url(stack)
    chat = TelegramChat(stack, bot_api)
    chat.send(text_update(chat.chat_id, "/start"), "VoltMart assistant")
    chat.say("where is my order?", "order number")
    chat.say("482913", "email")
    status = chat.say("anna.kovacova@example.sk", "GLS482913SK")
    assert any("482913" in m["text"] for m in status)
    offer = chat.say("what's the weather in Paris tomorrow?", "person")
    talk = chat.button(offer, "Talk to a person")
    assert chat.button(offer, "No, thanks")

    upsert_agent(url, "tg-agent", PASSWORD, "Eva")
    set_presence(url, authenticate(url, "tg-agent", PASSWORD).id, "online")
    console = AgentConsole(stack.url, "tg-agent", PASSWORD)
    try:
        chat.send(button_update(chat.chat_id, talk), "queue")
        with session_scope(url) as session:
            handoff_id = session.scalar(
                select(Handoff.id)
                .join(Conversation, Conversation.id == Handoff.conversation_id)
                .where(Conversation.channel == "telegram", Conversation.channel_thread == str(chat.chat_id))
            )
        assert handoff_id is not None
        console.claim(handoff_id)
        before = len(chat.received())
        console.reply(handoff_id, "Hello, this is Eva. Your kettle ships tomorrow.")
        deadline = time.monotonic() + 30
        while not any("Your kettle ships tomorrow" in m["text"] for m in chat.received()[before:]):
            assert time.monotonic() < deadline, chat.received()[before:]
            time.sleep(0.2)
        assert "Eva: Hello, this is Eva. Your kettle ships tomorrow." in [m["text"] for m in chat.received()]
        # The customer writes back: the agent has it, the bot stays quiet.
        chat.settle()  # what was said so far (the agent joining, the agent's reply) has all gone out
        settled = len(chat.received())
        assert chat.post(text_update(chat.chat_id, "thank you!")).status_code == 200
        time.sleep(2)
        assert len(chat.received()) == settled
        console.resolve(handoff_id)
    finally:
        agents_offline(url, "tg-agent")  # later tests expect nobody online


def test_a_replayed_update_is_stored_once(stack: Stack, bot_api: BotApiStandIn) -> None:
    from bot.db import session_scope
    from bot.messages.models import ChatMessage, Conversation

    chat = TelegramChat(stack, bot_api)
    hello = text_update(chat.chat_id, "hello")
    chat.send(hello, "VoltMart assistant")  # the whole answer (it waits for every part to go out)
    answered = len(chat.received())
    for _ in range(3):  # Telegram resends when it did not get our 200 in time
        assert chat.post(hello).json()["duplicate"] is True
    time.sleep(2)
    assert len(chat.received()) == answered
    with session_scope(database_url(stack)) as session:
        stored = session.scalar(
            select(func.count())
            .select_from(ChatMessage)
            .join(Conversation, Conversation.id == ChatMessage.conversation_id)
            .where(Conversation.channel_thread == str(chat.chat_id), ChatMessage.sender == "customer")
        )
    assert stored == 1
