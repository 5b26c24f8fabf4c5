"""Telegram's Update objects (https://core.telegram.org/bots/api#update) -> what the gateway handles.

Only private text messages and presses of the bot's inline buttons are read; anything else
(edited messages, stickers, group chats, channel posts) is acknowledged and left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_MESSAGE_CHARS = 4096  # sendMessage's limit, in UTF-16 code units
BUTTON_DATA = re.compile(r"^b:(\d{1,12}):(\d{1,2})$")


class UpdateKind(StrEnum):
    TEXT = "text"
    START = "start"  # /start: the chat begins (or begins again)
    BUTTON = "button"  # callback_query of one of our inline buttons
    IGNORED = "ignored"


@dataclass(frozen=True)
class TelegramUpdate:
    update_id: int
    kind: UpdateKind
    chat_id: str = ""
    user_id: str = ""
    text: str = ""
    callback_query_id: str = ""
    button: tuple[int, int] | None = None  # (stored message id, button index)
    language: str | None = None


class MalformedUpdate(ValueError):
    """Not an Update as Telegram documents it."""


def _id(value: Any) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def parse_update(body: Any) -> TelegramUpdate:
    if not isinstance(body, dict):
        raise MalformedUpdate("an Update is a JSON object")
    update_id = body.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int) or update_id < 0:
        raise MalformedUpdate("update_id must be a non-negative integer")
    message = body.get("message")
    if isinstance(message, dict):
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        chat_id, user_id = _id(chat.get("id")), _id(sender.get("id"))
        text = message.get("text")
        if chat_id is None:
            raise MalformedUpdate("message.chat.id must be an integer")
        if chat.get("type") != "private" or not isinstance(text, str) or user_id is None:
            return TelegramUpdate(update_id, UpdateKind.IGNORED, chat_id=chat_id)
        command = text.strip().split(maxsplit=1)[:1]
        if command and (command[0] == "/start" or command[0].startswith("/start@")):
            return TelegramUpdate(update_id, UpdateKind.START, chat_id=chat_id, user_id=user_id, text=text)
        return TelegramUpdate(update_id, UpdateKind.TEXT, chat_id=chat_id, user_id=user_id, text=text)
    query = body.get("callback_query")
    if isinstance(query, dict):
        sender = query.get("from") if isinstance(query.get("from"), dict) else {}
        origin = query.get("message") if isinstance(query.get("message"), dict) else {}
        chat = origin.get("chat") if isinstance(origin.get("chat"), dict) else {}
        chat_id, user_id = _id(chat.get("id")), _id(sender.get("id"))
        query_id = query.get("id")
        if not isinstance(query_id, str) or chat_id is None or user_id is None:
            raise MalformedUpdate("callback_query needs id, from.id and message.chat.id")
        match = BUTTON_DATA.match(query.get("data") or "") if isinstance(query.get("data"), str) else None
        return TelegramUpdate(
            update_id,
            UpdateKind.BUTTON,
            chat_id=chat_id,
            user_id=user_id,
            callback_query_id=query_id,
            button=(int(match[1]), int(match[2])) if match else None,
        )
    return TelegramUpdate(update_id, UpdateKind.IGNORED)


def button_data(message_id: int, index: int) -> str:
    """callback_data of a button: which stored message and which of its buttons (<= 64 bytes)."""
    return f"b:{message_id}:{index}"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 units, cut at a paragraph, line or word where possible."""
    pieces: list[str] = []
    rest = text
    while _units(rest) > limit:
        cut = len(rest)
        while _units(rest[:cut]) > limit:  # the longest prefix that fits
            cut = cut * limit // max(_units(rest[:cut]), 1) if cut > limit else cut - 1
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at > cut // 2:
                cut = at + len(separator)
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        pieces.append(rest)
    return pieces
