"""The conversation log: issue sessions, store and read messages, publish each new one.

A message is stored before anything else happens to it, and announced on the
bus only after its transaction committed, so a listener never sees a message
that a reader of the history could not find. ``message_dict`` is the one shape
of a message, for the history and for live updates alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.attachments.store import StoredAttachment
from bot.db import insert_ignore, session_scope
from bot.messages.bus import MessageBus, NullBus, conversation_room
from bot.messages.language import message_language
from bot.messages.models import Channel, ChatMessage, Conversation, InboundReceipt, OutboundDelivery
from bot.profile.model import ShopProfile
from bot.profile.render import render, render_tree
from bot.shop.security import redact

HISTORY_LIMIT = 200


class SessionStatus(StrEnum):
    ACTIVE = "active"
    UNKNOWN = "unknown"  # never issued by this gateway
    EXPIRED = "expired"  # idle for longer than sessions.idle_minutes
    ENDED = "ended"  # the customer pressed "end chat"


def storable(text: str) -> str:
    """What every database can store: no NUL, no lone surrogates (the API refuses them first)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def message_dict(message: ChatMessage) -> dict[str, Any]:
    attachment = message.attachment
    return {
        "id": message.id,
        "sender": message.sender,
        "text": message.text,
        "buttons": message.buttons or [],
        "agent_name": message.agent_name,
        "faq_id": (message.meta or {}).get("faq_id") if message.sender == "bot" else None,
        "attachment": StoredAttachment.of(attachment).public() if attachment is not None else None,
        # A handoff event the customer is told about: {"kind": "joined"|..., "agent_name": ...}.
        "notice": (message.meta or {}).get("notice") if message.sender == "system" else None,
        "created_at": message.created_at.isoformat() + "Z",
    }


def _outbound_for(session: Session, conversation: Conversation, messages: list[ChatMessage]) -> bool:
    """Replies in a conversation of a channel other than the widget get a delivery (same transaction)."""
    if conversation.channel in (None, Channel.WIDGET):
        return False
    outgoing = [m for m in messages if m.sender != "customer"]
    for message in outgoing:
        session.add(
            OutboundDelivery(
                message_id=message.id,
                conversation_id=conversation.id,
                channel=conversation.channel,
                next_attempt_at=datetime.utcnow(),
            )
        )
    return bool(outgoing)


def ensure_conversation(session: Session, conversation_id: str, language: str | None = None) -> Conversation:
    """The conversation row, created if missing; safe when two processes race to create it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        now = datetime.utcnow()
        session.execute(
            insert_ignore(session, Conversation).values(
                id=conversation_id,
                language=language or "en",
                mode="bot",
                created_at=now,
                last_activity_at=now,
                rasa_paused=False,
            )
        )
        conversation = session.get(Conversation, conversation_id, populate_existing=True)
    return conversation


def majority_language(session: Session, conversation_id: str) -> str | None:
    """The language most of the conversation's customer messages are in (ties: the latest wins)."""
    row = session.execute(
        select(ChatMessage.language)
        .where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.sender == "customer",
            ChatMessage.language.is_not(None),
        )
        .group_by(ChatMessage.language)
        .order_by(func.count().desc(), func.max(ChatMessage.id).desc())
        .limit(1)
    ).first()
    return row[0] if row else None


def _by_client_id(session: Session, conversation_id: str, client_id: str) -> ChatMessage | None:
    return session.execute(
        select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.client_id == client_id
        )
    ).scalar_one_or_none()


class MessageLog:
    def __init__(self, database_url: str, bus: MessageBus | None = None, shop: ShopProfile | None = None) -> None:
        self.url = database_url
        self.bus: MessageBus = bus or NullBus()
        # Called with a conversation id after a reply for another channel was stored (bot.channels).
        self.on_outbound: Callable[[str], None] | None = None
        # Every text the customer is shown passes here: {{ shop.* }} is filled as it is stored.
        self.shop = shop

    def _shop_text(self, text: str, language: str | None) -> str:
        return render(text, self.shop, language) if self.shop is not None else text

    def _shop_buttons(self, buttons: list[dict] | None, language: str | None) -> list[dict] | None:
        return render_tree(buttons, self.shop, language) if self.shop is not None and buttons else buttons

    # --- sessions -----------------------------------------------------------
    def open_session(self, language: str | None = None) -> str:
        """A new conversation with a random, unguessable id (the widget's bearer token)."""
        conversation_id = secrets.token_urlsafe(24)
        with session_scope(self.url) as session:
            ensure_conversation(session, conversation_id, language)
        return conversation_id

    def channel_conversation(
        self, channel: Channel, thread: str, idle_after: timedelta, language: str | None = None
    ) -> str:
        """The open conversation of a channel's thread (a Telegram chat, a mail thread), or a new one.

        Ended or idle for longer than ``idle_after``: a new conversation, as in the widget.
        """
        since = datetime.utcnow() - idle_after
        with session_scope(self.url) as session:
            current = session.scalar(
                select(Conversation.id)
                .where(
                    Conversation.channel == channel.value,
                    Conversation.channel_thread == thread,
                    Conversation.ended_at.is_(None),
                    Conversation.last_activity_at >= since,
                )
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )
            if current is not None:
                return current
            conversation = ensure_conversation(session, secrets.token_urlsafe(24), language)
            conversation.channel = channel.value
            conversation.channel_thread = thread
            return conversation.id

    def channel_of(self, conversation_id: str) -> tuple[Channel, str | None]:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return Channel.WIDGET, None
            return Channel(conversation.channel), conversation.channel_thread

    def session_exists(self, conversation_id: str) -> bool:
        with session_scope(self.url) as session:
            return session.get(Conversation, conversation_id) is not None

    def session_status(self, conversation_id: str, idle_after: timedelta) -> SessionStatus:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return SessionStatus.UNKNOWN
            if conversation.ended_at is not None:
                return SessionStatus.ENDED
            if conversation.last_activity_at < datetime.utcnow() - idle_after:
                return SessionStatus.EXPIRED
            return SessionStatus.ACTIVE

    def end_session(self, conversation_id: str) -> bool:
        """End a chat for good; False when there is no such chat."""
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return False
            conversation.ended_at = conversation.ended_at or datetime.utcnow()
            return True

    def open_payloads(self, conversation_id: str) -> set[str]:
        """Button payloads of the bot's latest messages that the customer has not answered yet."""
        with session_scope(self.url) as session:
            last_customer = session.scalar(
                select(func.max(ChatMessage.id)).where(
                    ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "customer"
                )
            )
            buttons = session.scalars(
                select(ChatMessage.buttons).where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "bot",
                    ChatMessage.id > (last_customer or 0),
                )
            )
            return {
                str(b["payload"])
                for row in buttons
                for b in (row or [])
                if isinstance(b, dict) and b.get("payload")
            }

    def button_of(self, conversation_id: str, message_id: int, index: int) -> dict[str, str] | None:
        """Button ``index`` of a bot message of this conversation ({title, payload}), or None."""
        with session_scope(self.url) as session:
            message = session.get(ChatMessage, message_id)
            if message is None or message.conversation_id != conversation_id or message.sender != "bot":
                return None
            buttons = message.buttons or []
            if not 0 <= index < len(buttons) or not isinstance(buttons[index], dict):
                return None
            return {"title": str(buttons[index].get("title", "")), "payload": str(buttons[index].get("payload", ""))}

    def mode(self, conversation_id: str) -> str:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            return conversation.mode if conversation else "bot"

    def language(self, conversation_id: str) -> str:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            return conversation.language if conversation else "en"

    def has_customer_text(self, conversation_id: str) -> bool:
        """Whether the customer has written anything (their language is known from it)."""
        with session_scope(self.url) as session:
            return session.scalar(
                select(ChatMessage.id)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "customer",
                    ChatMessage.text != "",
                )
                .limit(1)
            ) is not None

    def mark_rasa_resumed(self, conversation_id: str) -> None:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.rasa_paused = False

    # --- messages -----------------------------------------------------------
    def record(
        self,
        conversation_id: str,
        sender: str,
        text: str,
        *,
        buttons: list[dict] | None = None,
        agent_name: str | None = None,
        client_id: str | None = None,
        meta: dict | None = None,
        language: str | None = None,
        for_bot: bool = False,
        receipt: tuple[Channel, str] | None = None,
        attachment_id: int | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Store one message; returns (message, created). A repeated client_id is not stored twice.

        ``for_bot`` marks a customer message for delivery to Rasa, unless a person
        has the conversation. ``receipt`` (channel, its id of the message: a Telegram
        update_id, a Message-ID) is kept in the same transaction: a resent message is not
        stored again and ``({}, False)`` comes back.
        """
        text = storable(redact(text))
        said_in = message_language(text) if sender == "customer" and not (meta or {}).get("command") else None
        with session_scope(self.url) as session:
            conversation = ensure_conversation(session, conversation_id, language or said_in)
            if receipt is not None:
                inserted = session.execute(
                    insert_ignore(session, InboundReceipt).values(
                        channel=receipt[0].value,
                        external_id=receipt[1][:255],
                        conversation_id=conversation_id,
                        created_at=datetime.utcnow(),
                    )
                )
                if inserted.rowcount == 0:
                    return {}, False
            if language:
                conversation.language = language
            if sender != "customer":
                text = storable(self._shop_text(text, conversation.language))
                buttons = self._shop_buttons(buttons, conversation.language)
            conversation.last_activity_at = datetime.utcnow()
            if client_id:
                existing = _by_client_id(session, conversation_id, client_id)
                if existing is not None:
                    return self._with_relay(existing), False
            message = ChatMessage(
                conversation_id=conversation_id,
                sender=sender,
                text=text,
                buttons=buttons,
                agent_name=agent_name,
                client_id=client_id,
                meta=meta,
                relay_state="pending" if for_bot and conversation.mode == "bot" else "none",
                attachment_id=attachment_id,
                language=said_in,
            )
            session.add(message)
            try:
                session.flush()
            except IntegrityError:  # the same client_id raced in from another request
                session.rollback()
                return self._with_relay(_by_client_id(session, conversation_id, client_id)), False
            if said_in and not language:
                conversation.language = majority_language(session, conversation_id) or conversation.language
            outbound = _outbound_for(session, conversation, [message])
            stored = self._with_relay(message)
        self.publish_message(conversation_id, stored)
        if outbound:
            self._outbound(conversation_id)
        return stored, True

    def _outbound(self, conversation_id: str) -> None:
        if self.on_outbound is not None:
            self.on_outbound(conversation_id)

    def by_client_id(self, conversation_id: str, client_id: str) -> dict[str, Any] | None:
        """The message stored under this client_id (a retried upload is not stored twice)."""
        with session_scope(self.url) as session:
            message = _by_client_id(session, conversation_id, client_id)
            return message_dict(message) if message is not None else None

    @staticmethod
    def _with_relay(message: ChatMessage) -> dict[str, Any]:
        return {**message_dict(message), "relay": message.relay_state}

    def publish_message(self, conversation_id: str, message: dict[str, Any]) -> None:
        public = {k: v for k, v in message.items() if k != "relay"}
        self.bus.publish("message", public, conversation_room(conversation_id))

    def publish_mode(self, conversation_id: str, mode: str) -> None:
        self.bus.publish("mode", {"mode": mode}, conversation_room(conversation_id))

    def publish_status(self, conversation_id: str, relay: str) -> None:
        self.bus.publish("status", {"relay": relay}, conversation_room(conversation_id))

    def after(self, conversation_id: str, after_id: int = 0, limit: int = HISTORY_LIMIT) -> list[dict]:
        with session_scope(self.url) as session:
            rows = session.execute(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after_id)
                .order_by(ChatMessage.id)
                .limit(limit)
            ).scalars()
            return [message_dict(m) for m in rows]

    def has_later(self, conversation_id: str, message_id: int) -> bool:
        with session_scope(self.url) as session:
            return bool(
                session.scalar(
                    select(func.count())
                    .select_from(ChatMessage)
                    .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > message_id)
                )
            )

    # --- delivery to Rasa ---------------------------------------------------
    def claim_next(self, conversation_id: str, node: str, stale_after: float) -> dict[str, Any] | None:
        """Take the oldest pending message of a conversation for delivery, one at a time.

        None when nothing is pending or another delivery of this conversation is
        under way (the messages of one conversation reach Rasa in order). The claim
        carries the conversation's mode and whether Rasa's tracker is still paused.
        """
        now = datetime.utcnow()
        fresh = now - timedelta(seconds=stale_after)
        with session_scope(self.url) as session:
            # Serialises claimers of one conversation on PostgreSQL (SQLite serialises writers).
            conversation = session.execute(
                select(Conversation.mode, Conversation.rasa_paused)
                .where(Conversation.id == conversation_id)
                .with_for_update()
            ).first()
            busy = exists().where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.relay_state == "relaying",
                ChatMessage.relay_claimed_at > fresh,
            )
            oldest = session.scalar(
                select(func.min(ChatMessage.id)).where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.relay_state.in_(("pending", "relaying")),
                    ~busy,
                )
            )
            if oldest is None:
                return None
            claimed = session.execute(
                update(ChatMessage)
                .where(
                    ChatMessage.id == oldest,
                    ChatMessage.relay_state.in_(("pending", "relaying")),
                    ~busy,
                )
                .values(relay_state="relaying", relay_node=node, relay_claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return None
            message = session.get(ChatMessage, oldest)
            mode = conversation.mode if conversation else "bot"
            return {
                "id": message.id,
                "text": message.text,
                "meta": dict(message.meta or {}),
                # Read with the claim, so the relay needs no further queries before sending.
                "mode": mode,
                "rasa_paused": bool(conversation and mode == "bot" and conversation.rasa_paused),
            }

    def delivery_state(self, message_id: int) -> str:
        with session_scope(self.url) as session:
            return (
                session.scalar(select(ChatMessage.relay_state).where(ChatMessage.id == message_id)) or "none"
            )

    def release_claims_of(self, node: str) -> int:
        """At a gateway's start: what it was delivering when it died waits for the next attempt.

        A message it had sent carries ``attempted``, so that attempt asks Rasa's tracker first.
        """
        with session_scope(self.url) as session:
            released = session.execute(
                update(ChatMessage)
                .where(ChatMessage.relay_state == "relaying", ChatMessage.relay_node == node)
                .values(relay_state="pending", relay_claimed_at=None)
                .execution_options(synchronize_session=False)
            )
            return released.rowcount or 0

    def mark_attempted(self, message_id: int) -> None:
        """Sent to Rasa at least once (a later attempt checks whether it was processed)."""
        with session_scope(self.url) as session:
            message = session.get(ChatMessage, message_id)
            if message is not None:
                message.meta = {**(message.meta or {}), "attempted": True}

    def answer(
        self, conversation_id: str, message_id: int, replies: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], str]:
        """Store the bot's replies and mark the message delivered, in one transaction.

        Together, so a crash can't leave replies stored for a message that is still pending
        (its retry would store them again). Returns the stored replies and the mode after them.
        """
        with session_scope(self.url) as session:
            conversation = ensure_conversation(session, conversation_id, None)
            conversation.last_activity_at = datetime.utcnow()
            lang = conversation.language
            rows = [
                ChatMessage(
                    conversation_id=conversation_id,
                    sender="bot",
                    text=storable(self._shop_text(redact(reply["text"]), lang)),
                    buttons=self._shop_buttons(reply.get("buttons"), lang),
                    meta=reply.get("meta"),
                    relay_state="none",
                )
                for reply in replies
            ]
            session.add_all(rows)
            session.execute(
                update(ChatMessage)
                .where(ChatMessage.id == message_id)
                .values(relay_state="done", relay_claimed_at=None, meta=None)
                .execution_options(synchronize_session=False)
            )
            session.flush()
            outbound = _outbound_for(session, conversation, rows)
            stored = [self._with_relay(row) for row in rows]
            mode = conversation.mode
        for message in stored:
            self.publish_message(conversation_id, message)
        if outbound:
            self._outbound(conversation_id)
        return stored, mode

    def skip_delivery(self, message_id: int) -> None:
        """A person took the conversation before the message reached the bot."""
        self._set_relay(message_id, "none", forget_meta=True)

    def release_delivery(self, message_id: int) -> None:
        """Rasa could not be reached: the message waits for the next attempt."""
        self._set_relay(message_id, "pending")

    def _set_relay(self, message_id: int, state: str, forget_meta: bool = False) -> None:
        values: dict[str, Any] = {"relay_state": state, "relay_claimed_at": None}
        if forget_meta:
            values["meta"] = None  # the client address was only needed while delivering
        with session_scope(self.url) as session:
            session.execute(
                update(ChatMessage)
                .where(ChatMessage.id == message_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def conversations_waiting(self, stale_after: float, grace: float = 5.0, limit: int = 100) -> list[str]:
        """Conversations with messages still to deliver (including ones a dead process had claimed).

        A message younger than ``grace`` seconds is left to the request that stored it,
        which is delivering it and waits to return the answer.
        """
        now = datetime.utcnow()
        stale = now - timedelta(seconds=stale_after)
        with session_scope(self.url) as session:
            rows = session.execute(
                select(ChatMessage.conversation_id)
                .where(
                    and_(ChatMessage.relay_state == "pending", ChatMessage.created_at <= now - timedelta(seconds=grace))
                    | and_(ChatMessage.relay_state == "relaying", ChatMessage.relay_claimed_at <= stale)
                )
                .group_by(ChatMessage.conversation_id)
                .order_by(func.min(ChatMessage.id))
                .limit(limit)
            ).scalars()
            return list(rows)
