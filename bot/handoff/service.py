"""Handoff lifecycle (queue, claim, resolve), shared by the action server and the gateway.

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

from bot.db import session_scope
from bot.handoff.models import Agent, AgentNote, Conversation, Handoff
from bot.messages.bus import AGENTS_ROOM
from bot.messages.log import MessageLog, ensure_conversation
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


class HandoffService:
    def __init__(self, database_url: str, settings: HandoffSettings, messages: MessageLog) -> None:
        self.url = database_url
        self.settings = settings
        self.messages = messages

    def _queue_changed(self, handoff_id: int, status: str) -> None:
        """Tells every console that the queue changed (they re-read the row)."""
        self.messages.bus.publish("queue", {"handoff_id": handoff_id, "status": status}, AGENTS_ROOM)

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
            conversation = ensure_conversation(session, conversation_id, language)
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
        if created:
            self._queue_changed(handoff_id, "queued" if online else "ticket")
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
            ensure_conversation(session, conversation_id).customer_email = email

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
        self._queue_changed(handoff_id, "assigned")

    def agent_reply(self, handoff_id: int, agent: Agent, text: str) -> dict[str, Any]:
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None or handoff.status != "assigned" or handoff.agent_id != agent.id:
                raise ClaimConflict("claim this conversation before replying")
            if handoff.first_agent_reply_at is None:
                handoff.first_agent_reply_at = datetime.utcnow()
            conversation_id = handoff.conversation_id
        message, _ = self.messages.record(conversation_id, "agent", text, agent_name=agent.display_name)
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
            conversation_id = handoff.conversation_id
        self.messages.publish_mode(conversation_id, "bot")
        self._queue_changed(handoff_id, "resolved")
        return conversation_id

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
