"""Handoff lifecycle and the conversation log, shared by the action server and the gateway.

Every state change is one short transaction, so two processes (or two agents
racing for the same conversation) always see a consistent answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.handoff.models import Agent, AgentNote, ChatMessage, Conversation, Handoff
from bot.settings import HandoffSettings
from bot.shop.security import redact

log = logging.getLogger(__name__)
ACTIVE = ("queued", "assigned")
AGENT_PRESENCE = timedelta(seconds=90)
EMAIL_REPLY_PROMISE = timedelta(hours=24)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class HandoffStart:
    handoff_id: int
    online: bool
    position: int
    wait_minutes: int
    created: bool


class ClaimConflict(Exception):
    """Another agent claimed the conversation first, or it is no longer waiting."""


def message_dict(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender,
        "text": message.text,
        "buttons": message.buttons or [],
        "agent_name": message.agent_name,
        "created_at": message.created_at.isoformat() + "Z",
    }


def _by_client_id(session: Session, conversation_id: str, client_id: str) -> ChatMessage | None:
    return session.execute(
        select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.client_id == client_id
        )
    ).scalar_one_or_none()


class HandoffService:
    def __init__(self, database_url: str, settings: HandoffSettings) -> None:
        self.url = database_url
        self.settings = settings

    # --- conversation log ------------------------------------------------
    def record_message(
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
    ) -> tuple[dict[str, Any], bool]:
        """Store one message; returns (message, created). A repeated client_id is not stored twice."""
        text = redact(text)
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                conversation = Conversation(id=conversation_id, language=language or "en")
                session.add(conversation)
                session.flush()  # the message's foreign key needs the row first
            elif language:
                conversation.language = language
            conversation.last_activity_at = datetime.utcnow()
            if client_id:
                existing = _by_client_id(session, conversation_id, client_id)
                if existing is not None:
                    return message_dict(existing), False
            message = ChatMessage(
                conversation_id=conversation_id,
                sender=sender,
                text=text,
                buttons=buttons,
                agent_name=agent_name,
                client_id=client_id,
                meta=meta,
            )
            session.add(message)
            try:
                session.flush()
            except IntegrityError:  # the same client_id raced in on another thread
                session.rollback()
                return message_dict(_by_client_id(session, conversation_id, client_id)), False
            return message_dict(message), True

    def messages_after(self, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[dict]:
        with session_scope(self.url) as session:
            rows = session.execute(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after_id)
                .order_by(ChatMessage.id)
                .limit(limit)
            ).scalars()
            return [message_dict(m) for m in rows]

    def conversation_mode(self, conversation_id: str) -> str:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            return conversation.mode if conversation else "bot"

    # --- handoff lifecycle ------------------------------------------------
    def agents_online(self, now: datetime | None = None) -> bool:
        now = now or datetime.utcnow()
        if not self.within_hours(now):
            return False
        with session_scope(self.url) as session:
            seen = session.scalar(select(func.count()).where(Agent.last_seen_at >= now - AGENT_PRESENCE))
        return bool(seen)

    def within_hours(self, now: datetime | None = None) -> bool:
        hours = self.settings.hours
        if hours == "always":
            return True
        local = (
            (now or datetime.utcnow())
            .replace(tzinfo=ZoneInfo("UTC"))
            .astimezone(ZoneInfo(self.settings.timezone))
        )
        window = hours.get(_DAYS[local.weekday()]) if isinstance(hours, dict) else None
        if not window:
            return False
        return window[0] <= local.strftime("%H:%M") < window[1]

    def start(
        self, conversation_id: str, reason: str, language: str, context: dict[str, Any]
    ) -> HandoffStart:
        """Open a handoff (idempotent while one is active) and pause the bot for it."""
        online = self.agents_online()
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                conversation = Conversation(id=conversation_id, language=language)
                session.add(conversation)
                session.flush()
            active = session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
            ).scalar_one_or_none()
            created = active is None
            if active is None:
                active = Handoff(
                    conversation_id=conversation_id,
                    status="queued" if online else "ticket",
                    reason=reason,
                    language=language,
                    context=context,
                )
                session.add(active)
                session.flush()
            if active.status in ACTIVE:
                conversation.mode = "handoff"
                conversation.rasa_paused = True  # the action pauses the Rasa tracker too
            position = session.scalar(
                select(func.count()).where(
                    Handoff.status == "queued", Handoff.created_at <= active.created_at
                )
            )
            handoff_id = active.id
            online = active.status in ACTIVE
        position = max(int(position or 1), 1)
        return HandoffStart(
            handoff_id, online, position, position * self.settings.average_handle_minutes, created
        )

    def leave_contact(self, conversation_id: str, email: str) -> datetime:
        """Attach the customer's email to the open ticket and record the reply promise."""
        due = datetime.utcnow() + EMAIL_REPLY_PROMISE
        with session_scope(self.url) as session:
            ticket = (
                session.execute(
                    select(Handoff)
                    .where(Handoff.conversation_id == conversation_id, Handoff.status == "ticket")
                    .order_by(Handoff.id.desc())
                )
                .scalars()
                .first()
            )
            if ticket is None:
                raise LookupError("no open ticket for this conversation")
            ticket.contact_email = email
            ticket.promise = "reply by email within 24 hours"
            ticket.promise_due_at = due
        return due

    def keep_promise(self, handoff_id: int, agent_id: int) -> bool:
        """Mark the ticket's reply promise as kept; False when there is no open promise."""
        with session_scope(self.url) as session:
            ticket = session.get(Handoff, handoff_id)
            if ticket is None or ticket.status != "ticket" or not ticket.promise:
                return False
            if ticket.promise_kept_at is None:
                ticket.promise_kept_at = datetime.utcnow()
                ticket.agent_id = ticket.agent_id or agent_id
            return True

    def link_customer(self, conversation_id: str, email: str) -> None:
        """Remember the verified customer, so agents see their earlier conversations."""
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                conversation = Conversation(id=conversation_id)
                session.add(conversation)
            conversation.customer_email = email

    def needs_rasa_resume(self, conversation_id: str) -> bool:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            return bool(conversation and conversation.mode == "bot" and conversation.rasa_paused)

    def mark_rasa_resumed(self, conversation_id: str) -> None:
        with session_scope(self.url) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.rasa_paused = False

    def active_handoff(self, conversation_id: str) -> Handoff | None:
        with session_scope(self.url) as session:
            return session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
            ).scalar_one_or_none()

    def claim(self, handoff_id: int, agent_id: int) -> None:
        """Atomic compare-and-set: exactly one agent wins a queued handoff."""
        with session_scope(self.url) as session:
            result = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == "queued")
                .values(status="assigned", agent_id=agent_id, claimed_at=datetime.utcnow())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                owner = session.execute(
                    select(Agent.display_name)
                    .join(Handoff, Handoff.agent_id == Agent.id)
                    .where(Handoff.id == handoff_id)
                ).scalar_one_or_none()
                raise ClaimConflict(
                    f"already taken by {owner}" if owner else "this conversation is no longer waiting"
                )

    def agent_reply(self, handoff_id: int, agent: Agent, text: str) -> dict[str, Any]:
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None or handoff.status != "assigned" or handoff.agent_id != agent.id:
                raise ClaimConflict("claim this conversation before replying")
            if handoff.first_agent_reply_at is None:
                handoff.first_agent_reply_at = datetime.utcnow()
            conversation_id = handoff.conversation_id
        message, _ = self.record_message(conversation_id, "agent", text, agent_name=agent.display_name)
        return message

    def add_note(self, handoff_id: int, agent_id: int, text: str) -> None:
        with session_scope(self.url) as session:
            session.add(AgentNote(handoff_id=handoff_id, agent_id=agent_id, text=redact(text)))

    def resolve(self, handoff_id: int, agent_id: int) -> str:
        """Close the handoff and give the conversation back to the bot; returns its id."""
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None or handoff.status != "assigned" or handoff.agent_id != agent_id:
                raise ClaimConflict("only the assigned agent can resolve this conversation")
            handoff.status = "resolved"
            handoff.resolved_at = datetime.utcnow()
            conversation = session.get(Conversation, handoff.conversation_id)
            conversation.mode = "bot"
            return handoff.conversation_id

    def record_csat(self, conversation_id: str, rating: int, comment: str | None = None) -> bool:
        """Store the rating on the latest resolved handoff of the conversation."""
        if not 1 <= int(rating) <= 5:
            raise ValueError("rating must be 1 to 5")
        with session_scope(self.url) as session:
            handoff = (
                session.execute(
                    select(Handoff)
                    .where(Handoff.conversation_id == conversation_id, Handoff.status == "resolved")
                    .order_by(Handoff.resolved_at.desc())
                )
                .scalars()
                .first()
            )
            if handoff is None:
                return False
            handoff.csat = int(rating)
            if comment:
                handoff.csat_comment = redact(comment)[:2000]
            return True
