"""Webhooks of the channels that push to us: Telegram (``POST /channels/telegram/webhook``).

Order of checks: the channel is on (404), the secret token (401), a JSON Update (400; the app
refuses bodies over 64 KiB with 413), the chat's rate limit (429: Telegram resends the update
later, so nothing legitimate is lost), then the message is stored once (a resent update_id is
acknowledged and not stored again). The answer is relayed and sent after the 200, so Telegram
never waits for Rasa.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, jsonify, request

from bot.channels.base import InboundMessage
from bot.channels.inbound import ChannelInbound
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.updates import MalformedUpdate, UpdateKind, parse_update
from bot.messages.models import Channel

if TYPE_CHECKING:
    from bot.composition import Services

log = logging.getLogger(__name__)
channels_blueprint = Blueprint("channels", __name__, url_prefix="/channels")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What Telegram's /start sends on to the bot: its greeting, as a command (bot.messages.payloads).
START_COMMAND = "/greet"


def _services() -> Services:
    return current_app.extensions["services"]


def _inbound() -> ChannelInbound:
    return current_app.extensions["channel_inbound"]


def _tag(chat_id: str) -> str:
    """A chat in the log without its id (a personal identifier)."""
    return hashlib.sha256(chat_id.encode()).hexdigest()[:10]


@channels_blueprint.post("/telegram/webhook")
def telegram_webhook() -> Any:
    telegram = _services().channels.get(Channel.TELEGRAM)
    if not isinstance(telegram, TelegramChannel):
        return jsonify({"error": "the telegram channel is not enabled"}), 404
    if not telegram.verify(request.headers.get(SECRET_HEADER)):
        log.warning("telegram webhook: missing or wrong secret token from %s; refused", request.remote_addr)
        return jsonify({"error": "forbidden"}), 401
    try:
        update = parse_update(request.get_json(silent=True))
    except MalformedUpdate as exc:
        log.warning("telegram webhook: malformed update refused (%s)", exc)
        return jsonify({"error": f"malformed update: {exc}"}), 400
    if update.kind is UpdateKind.IGNORED:
        return jsonify({"ok": True, "ignored": True})
    if not _services().limits.channel_per_thread.allow(f"telegram:{update.chat_id}"):
        log.warning(
            "telegram webhook: chat %s is over %d updates a minute; update %d refused with 429 (Telegram resends it)",
            _tag(update.chat_id),
            _services().settings.limits.channel_messages_per_minute,
            update.update_id,
        )
        response = jsonify({"error": "too many updates from this chat; resend later"})
        response.headers["Retry-After"] = "30"
        return response, 429
    if update.kind is UpdateKind.BUTTON:
        _in_background(telegram.answer_callback, update.callback_query_id)
    inbound = _inbound_message(update)
    if inbound is None:
        return jsonify({"ok": True, "ignored": True})
    accepted = _inbound().accept(inbound)
    if accepted.duplicate:
        log.info("telegram webhook: update %d was stored before; not again", update.update_id)
        return jsonify({"ok": True, "duplicate": True})
    if accepted.for_bot:
        _in_background(_inbound().process, accepted.conversation_id)
    return jsonify({"ok": True})


def _inbound_message(update: Any) -> InboundMessage | None:
    common = {
        "channel": Channel.TELEGRAM,
        "thread": update.chat_id,
        "sender": update.user_id,
        "external_id": str(update.update_id),
    }
    if update.kind is UpdateKind.START:
        return InboundMessage(**common, text=START_COMMAND, command=True)
    if update.kind is UpdateKind.BUTTON:
        if update.button is None:
            return None
        conversation_id = _services().messages.channel_conversation(
            Channel.TELEGRAM, update.chat_id, _inbound().idle_after
        )
        button = _services().messages.button_of(conversation_id, *update.button)
        if button is None:  # not a button of this chat's conversation
            log.warning(
                "telegram webhook: update %d pressed a button this chat was never offered", update.update_id
            )
            return None
        return InboundMessage(**common, text=button["title"], payload=button["payload"])
    text = update.text.strip()  # at most 4096 characters: Telegram's own limit
    return InboundMessage(**common, text=text) if text else None


def _in_background(function: Any, *args: Any) -> None:
    """After the response: a greenlet under the gateway's gevent, a thread elsewhere."""

    def run() -> None:
        try:
            function(*args)
        except Exception:
            log.exception("telegram: background step failed (the relay and outbound sweeps retry)")

    threading.Thread(target=run, daemon=True).start()
