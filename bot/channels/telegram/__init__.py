"""The Telegram channel: the gateway's own webhook (bot.web.channels) and replies via the Bot API.

Not Rasa's connector: that pins an old aiogram, calls Telegram as it starts and does not check
the secret token. Here the webhook checks ``X-Telegram-Bot-Api-Secret-Token`` (constant time),
a resent update is stored once (its ``update_id`` is the receipt), the bot's buttons become an
inline keyboard whose callback data names the stored message and button (never the payload
itself: at most 64 bytes, and nothing a client could forge), and long texts are split.
"""

from __future__ import annotations

import contextlib
import hmac
from typing import Any

from bot.channels.base import DeliveryError, OutboundMessage
from bot.channels.telegram.api import BotApi
from bot.channels.telegram.updates import button_data, split_text
from bot.messages.models import Channel
from bot.settings import Settings


class TelegramChannel:
    channel = Channel.TELEGRAM

    def __init__(self, api: BotApi, webhook_secret: str) -> None:
        self.api = api
        self._secret = webhook_secret.encode()

    def verify(self, header: str | None) -> bool:
        """The secret token setWebhook registered; compared in constant time."""
        return bool(self._secret) and hmac.compare_digest((header or "").encode(), self._secret)

    def deliver(self, thread: str, message: OutboundMessage) -> None:
        text = message.text
        if message.sender == "agent" and message.agent_name:
            text = f"{message.agent_name}: {text}"
        chunks = split_text(text) or [""]
        keyboard: dict[str, Any] | None = None
        if message.buttons:
            keyboard = {
                "inline_keyboard": [
                    [
                        {
                            "text": button.title or button.payload,
                            "callback_data": button_data(message.message_id, index),
                        }
                    ]
                    for index, button in enumerate(message.buttons)
                ]
            }
        if chunks == [""] and keyboard is None:
            return  # nothing to show
        for position, chunk in enumerate(chunks):
            last = position == len(chunks) - 1
            self.api.send_message(thread, chunk or "…", keyboard if last else None)

    def answer_callback(self, callback_query_id: str) -> None:
        """Stops the button's spinner; a failure only means the spinner runs out by itself."""
        with contextlib.suppress(DeliveryError):
            self.api.answer_callback_query(callback_query_id)


def build(settings: Settings) -> TelegramChannel | None:
    telegram = settings.telegram
    if telegram is None or not telegram.webhook_secret:
        return None
    return TelegramChannel(BotApi(telegram.bot_token, telegram.api_url), telegram.webhook_secret)
