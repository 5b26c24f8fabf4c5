"""Handoff lifecycle (queue, claim, resolve), shared by the action server and the gateway.

Every state change is one short transaction, so two processes (or two agents
racing for the same conversation) always see a consistent answer.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.db import insert_ignore, session_scope
from bot.handoff.models import Agent, AgentNote, ConversationLabel, Handoff
from bot.handoff.notices import NoticeKind, notify_customer
from bot.messages.bus import AGENTS_ROOM
from bot.messages.log import MessageLog, ensure_conversation
from bot.messages.models import Conversation
from bot.settings import HandoffSettings
from bot.shop.security import redact

log = logging.getLogger(__name__)
ACTIVE = ("queued", "assigned")
EMAIL_REPLY_PROMISE = timedelta(hours=24)
EMAIL_PROMISE_TEXT = "reply by email within 24 hours"
LABEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
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


@dataclass(frozen=True)
class TimedOut:
    """A queued handoff nobody claimed in time, now an email ticket."""

    handoff_id: int
    conversation_id: str
    language: str
    contact_email: str | None  # the verified email, when the customer has one


class HandoffService:
    def __init__(self, database_url: str, settings: HandoffSettings, messages: MessageLog) -> None:
        self.url = database_url
        self.settings = settings
        self.messages = messages

    def _queue_changed(self, handoff_id: int, status: str, **extra: Any) -> None:
        """Tells every console that the queue changed (they re-read the queue)."""
        self.messages.bus.publish(
            "queue", {"handoff_id": handoff_id, "status": status, **extra}, AGENTS_ROOM
        )

    def queue_reshuffled(self) -> None:
        """Several handoffs changed at once (e.g. a disabled agent's went back): consoles re-read."""
        self.messages.bus.publish("queue", {"handoff_id": None, "status": "queued"}, AGENTS_ROOM)

    # --- presence -----------------------------------------------------------
    def online_agents(self, now: datetime | None = None) -> int:
        """Agents who set themselves online and whose console is still open (heartbeat)."""
        now = now or datetime.utcnow()
        fresh = now - timedelta(seconds=self.settings.presence_timeout_seconds)
        with session_scope(self.url) as session:
            return int(
                session.scalar(
                    select(func.count()).where(Agent.presence == "online", Agent.last_seen_at >= fresh)
                )
                or 0
            )

    def agents_online(self, now: datetime | None = None) -> bool:
        now = now or datetime.utcnow()
        return self.within_hours(now) and self.online_agents(now) > 0

    def expected_wait_minutes(self, position: int, online: int) -> int:
        """Each online agent works the queue in parallel."""
        return math.ceil(position * self.settings.average_handle_minutes / max(online, 1))

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
        now = datetime.utcnow()
        online_count = self.online_agents(now) if self.within_hours(now) else 0
        online = online_count > 0
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
                    created_at=now,
                    queued_at=now,
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
            handoff_id, online, position, self.expected_wait_minutes(position, online_count), created
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
            if ticket.promise is None or ticket.promise_due_at is None:
                ticket.promise = EMAIL_PROMISE_TEXT
                ticket.promise_due_at = due
            due = ticket.promise_due_at
            handoff_id = ticket.id
        self._queue_changed(handoff_id, "ticket")
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
        self._queue_changed(handoff_id, "ticket", promise_kept=True)
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
            conversation_id = session.scalar(select(Handoff.conversation_id).where(Handoff.id == handoff_id))
            name = session.scalar(select(Agent.display_name).where(Agent.id == agent_id))
        self._queue_changed(handoff_id, "assigned")
        notify_customer(self.messages, conversation_id, NoticeKind.JOINED, name)

    def assigned_conversation(self, handoff_id: int, agent_id: int) -> str:
        """The conversation of a handoff this agent has, or ClaimConflict (checked before a file is stored)."""
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None or handoff.status != "assigned" or handoff.agent_id != agent_id:
                raise ClaimConflict("claim this conversation before replying")
            return handoff.conversation_id

    def conversations_held_by(self, agent_id: int) -> list[str]:
        """The conversations an agent has now (their customers are told if they go back to the queue)."""
        with session_scope(self.url) as session:
            return list(
                session.scalars(
                    select(Handoff.conversation_id).where(Handoff.agent_id == agent_id, Handoff.status == "assigned")
                )
            )

    def tell_back_in_queue(self, conversation_ids: list[str]) -> None:
        for conversation_id in conversation_ids:
            notify_customer(self.messages, conversation_id, NoticeKind.QUEUED, None)

    def agent_reply(
        self, handoff_id: int, agent: Agent, text: str, attachment_id: int | None = None
    ) -> dict[str, Any]:
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None or handoff.status != "assigned" or handoff.agent_id != agent.id:
                raise ClaimConflict("claim this conversation before replying")
            if handoff.first_agent_reply_at is None:
                handoff.first_agent_reply_at = datetime.utcnow()
            conversation_id = handoff.conversation_id
        message, _ = self.messages.record(
            conversation_id, "agent", text, agent_name=agent.display_name, attachment_id=attachment_id
        )
        return message

    def add_note(self, handoff_id: int, agent_id: int, text: str, kind: str = "note") -> None:
        with session_scope(self.url) as session:
            session.add(AgentNote(handoff_id=handoff_id, agent_id=agent_id, text=redact(text), kind=kind))

    def transfer(self, handoff_id: int, from_agent_id: int, to_agent_id: int | None, note: str) -> None:
        """Pass a conversation to a colleague, or (``to_agent_id`` None) back to the queue, with a note.

        A compare-and-set on (status, agent): only the agent who has it can pass it on.
        """
        now = datetime.utcnow()
        with session_scope(self.url) as session:
            names = dict(session.execute(select(Agent.id, Agent.display_name)).all())
            enabled = set(session.scalars(select(Agent.id).where(Agent.disabled_at.is_(None))))
            # Only to a colleague who can log in: a disabled login would hold it out of every queue.
            if to_agent_id is not None and (to_agent_id not in enabled or to_agent_id == from_agent_id):
                raise LookupError("choose another agent to transfer to")
            values: dict[str, Any] = (
                {"agent_id": to_agent_id, "claimed_at": now}
                if to_agent_id is not None
                else {"status": "queued", "agent_id": None, "claimed_at": None, "queued_at": now}
            )
            result = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.status == "assigned", Handoff.agent_id == from_agent_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                raise ClaimConflict("only the assigned agent can transfer this conversation")
            conversation_id = session.scalar(select(Handoff.conversation_id).where(Handoff.id == handoff_id))
            target = names[to_agent_id] if to_agent_id is not None else "the queue"
            text = f"Transferred from {names.get(from_agent_id, '?')} to {target}"
            text += f": {note}" if note else "."
            session.add(AgentNote(handoff_id=handoff_id, agent_id=from_agent_id, text=redact(text), kind="transfer"))
        self._queue_changed(
            handoff_id, "assigned" if to_agent_id is not None else "queued", agent_id=to_agent_id, transfer=True
        )
        if to_agent_id is not None:
            notify_customer(self.messages, conversation_id, NoticeKind.TRANSFERRED, names[to_agent_id])
        else:
            notify_customer(self.messages, conversation_id, NoticeKind.QUEUED, None)

    # --- labels -------------------------------------------------------------
    def set_label(self, handoff_id: int, label: str, present: bool) -> list[str]:
        """Add or remove a label on the handoff's conversation; returns its labels."""
        label = label.strip().lower()
        if not LABEL.match(label):
            raise ValueError("a label is 1-32 lowercase letters, digits, dash or underscore")
        with session_scope(self.url) as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise LookupError("no such conversation")
            conversation_id, status = handoff.conversation_id, handoff.status
            existing = session.execute(
                select(ConversationLabel).where(
                    ConversationLabel.conversation_id == conversation_id, ConversationLabel.label == label
                )
            ).scalar_one_or_none()
            if present and existing is None:
                session.execute(
                    insert_ignore(session, ConversationLabel).values(
                        conversation_id=conversation_id, label=label, created_at=datetime.utcnow()
                    )
                )
            elif not present and existing is not None:
                session.delete(existing)
            session.flush()
            labels = sorted(
                session.execute(
                    select(ConversationLabel.label).where(ConversationLabel.conversation_id == conversation_id)
                ).scalars()
            )
        self._queue_changed(handoff_id, status, labels=labels)
        return labels

    def announce(self, conversation_id: str) -> None:
        """Tell the consoles about the conversation's latest handoff (e.g. after the bot started one)."""
        with session_scope(self.url) as session:
            row = session.execute(
                select(Handoff.id, Handoff.status, Handoff.agent_id)
                .where(Handoff.conversation_id == conversation_id)
                .order_by(Handoff.id.desc())
            ).first()
        if row is not None:
            self._queue_changed(row.id, row.status, agent_id=row.agent_id)

    def customer_wrote(self, conversation_id: str) -> None:
        """A customer message reached a person: their consoles can show it wherever they are."""
        with session_scope(self.url) as session:
            row = session.execute(
                select(Handoff.id, Handoff.status, Handoff.agent_id).where(
                    Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE)
                )
            ).first()
        if row is not None:
            self._queue_changed(row.id, row.status, agent_id=row.agent_id, customer_message=True)

    # --- nobody lets a customer wait forever --------------------------------
    def expire_unclaimed(self, now: datetime | None = None) -> list[TimedOut]:
        """Queued handoffs older than the timeout become email tickets, each exactly once.

        The UPDATE ... WHERE status = 'queued' is the claim: when two gateways
        sweep at once, only the one whose update matched a row tells the customer.
        """
        now = now or datetime.utcnow()
        cutoff = now - timedelta(minutes=self.settings.unclaimed_timeout_minutes)
        waited = func.coalesce(Handoff.queued_at, Handoff.created_at)
        expired: list[TimedOut] = []
        with session_scope(self.url) as session:
            candidates = session.execute(
                select(Handoff.id).where(Handoff.status == "queued", waited <= cutoff).order_by(Handoff.id)
            ).scalars().all()
        for handoff_id in candidates:
            with session_scope(self.url) as session:
                result = session.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff_id, Handoff.status == "queued", waited <= cutoff)
                    .values(
                        status="ticket",
                        timed_out_at=now,
                        promise=EMAIL_PROMISE_TEXT,
                        promise_due_at=now + EMAIL_REPLY_PROMISE,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    continue  # another gateway took it, or an agent claimed it just now
                handoff = session.get(Handoff, handoff_id)
                conversation = session.get(Conversation, handoff.conversation_id)
                conversation.mode = "bot"  # the bot asks for the email address
                if conversation.customer_email and not handoff.contact_email:
                    handoff.contact_email = conversation.customer_email  # verified by order
                expired.append(
                    TimedOut(handoff.id, handoff.conversation_id, handoff.language, handoff.contact_email)
                )
        for item in expired:
            self.messages.publish_mode(item.conversation_id, "bot")
            self._queue_changed(item.handoff_id, "ticket", timed_out=True)
        return expired

    def awaiting_contact(self, conversation_id: str) -> bool:
        """A ticket of this conversation timed out and still waits for the customer's email."""
        with session_scope(self.url) as session:
            return (
                session.scalar(
                    select(func.count()).where(
                        Handoff.conversation_id == conversation_id,
                        Handoff.status == "ticket",
                        Handoff.timed_out_at.is_not(None),
                        Handoff.contact_email.is_(None),
                        Handoff.promise_kept_at.is_(None),
                    )
                )
                or 0
            ) > 0

    def record_email_answer(self, handoff_id: int, agent_id: int, text: str) -> Handoff:
        """The agent answered a ticket by email: the promise is kept (the caller queues the mail)."""
        now = datetime.utcnow()
        with session_scope(self.url) as session:
            ticket = session.get(Handoff, handoff_id)
            if ticket is None or ticket.status != "ticket":
                raise ClaimConflict("only tickets are answered by email")
            if not ticket.contact_email:
                raise LookupError("the customer left no email address")
            ticket.email_reply_at = now
            ticket.promise_kept_at = ticket.promise_kept_at or now
            ticket.agent_id = ticket.agent_id or agent_id
            session.add(AgentNote(handoff_id=handoff_id, agent_id=agent_id, text=redact(text), kind="email"))
            session.flush()
            session.expunge(ticket)
        self._queue_changed(handoff_id, "ticket", promise_kept=True)
        return ticket

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
            name = session.scalar(select(Agent.display_name).where(Agent.id == agent_id))
        notify_customer(self.messages, conversation_id, NoticeKind.LEFT, name)
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
