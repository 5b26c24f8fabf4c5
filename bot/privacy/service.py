"""Retention, export and erasure of one customer's data.

What the bot holds about a person: conversations (messages, handoffs with their
context, agents' notes), the Rasa tracker of each conversation, and mail in the
outbox. A conversation belongs to an email when it was verified with it, when the
customer left it for a reply, or when the customer typed it. The shop's own
records (account, orders, returns, invoices) are the shop's to keep or delete
under its own rules and are exported, never erased, here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.handoff.limits import WINDOW as HANDOFF_LIMIT_WINDOW
from bot.handoff.models import AgentNote, ChatMessage, Conversation, Handoff, HandoffRequest
from bot.privacy.tracker_store import RasaTrackerStore, chunks
from bot.settings import PrivacySettings
from bot.shop.mailer import forget_unsent
from bot.shop.models import (
    Customer,
    OutboxEmail,
    PasswordResetRequest,
    PasswordResetToken,
    ReturnRequest,
    VerificationAttempt,
)
from bot.shop.security import normalise_email
from bot.shop.store import RESET_TOKEN_TTL

log = logging.getLogger(__name__)
RATE_LIMIT_WINDOW = timedelta(hours=1)  # password resets and handoffs are limited per hour


@dataclass
class Removed:
    """How many rows of each kind went (printed by the CLI, logged by the worker)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, number: int) -> None:
        if number:
            self.counts[kind] = self.counts.get(kind, 0) + int(number)

    def total(self) -> int:
        return sum(self.counts.values())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


class PrivacyService:
    def __init__(
        self,
        database_url: str,
        tracker_store: RasaTrackerStore,
        settings: PrivacySettings,
        verification_window: timedelta,
    ) -> None:
        self.url = database_url
        self.tracker_store = tracker_store
        self.settings = settings
        self.verification_window = verification_window

    # --- whose data -------------------------------------------------------
    @staticmethod
    def _conversations_of(session: Session, email: str) -> list[str]:
        verified = select(Conversation.id).where(func.lower(Conversation.customer_email) == email)
        left_contact = select(Handoff.conversation_id).where(func.lower(Handoff.contact_email) == email)
        typed = select(ChatMessage.conversation_id).where(
            ChatMessage.sender == "customer", func.lower(ChatMessage.text).contains(email)
        )
        ids = (
            set(session.scalars(verified)) | set(session.scalars(left_contact)) | set(session.scalars(typed))
        )
        return sorted(ids)

    # --- export -----------------------------------------------------------
    def export(self, email: str) -> dict[str, Any]:
        """Everything held about the address, as JSON-ready data."""
        address = normalise_email(email)
        if address is None:
            raise ValueError(f"not an email address: {email!r}")
        with session_scope(self.url) as session:
            ids = self._conversations_of(session, address)
            conversations = [self._export_conversation(session, cid) for cid in ids]
            outbox = [
                {
                    "to": m.to_address,
                    "subject": m.subject,
                    "created_at": _iso(m.created_at),
                    "sent_at": _iso(m.sent_at),
                }
                for m in session.scalars(
                    select(OutboxEmail)
                    .where(func.lower(OutboxEmail.to_address) == address)
                    .order_by(OutboxEmail.id)
                )
            ]
            shop = self._export_shop(session, address)
        trackers = self.tracker_store.export(ids)
        for conversation in conversations:
            conversation["rasa_tracker_events"] = trackers.get(conversation["id"], [])
        return {
            "email": address,
            "exported_at": _iso(datetime.utcnow()),
            "conversations": conversations,
            "outbox": outbox,
            "shop": shop,
        }

    @staticmethod
    def _export_conversation(session: Session, conversation_id: str) -> dict[str, Any]:
        conversation = session.get(Conversation, conversation_id)
        messages = session.scalars(
            select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.id)
        )
        handoffs = session.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id)
        ).all()
        notes = {
            h.id: [
                {"text": n.text, "created_at": _iso(n.created_at)}
                for n in session.scalars(
                    select(AgentNote).where(AgentNote.handoff_id == h.id).order_by(AgentNote.id)
                )
            ]
            for h in handoffs
        }
        return {
            "id": conversation_id,
            "language": conversation.language if conversation else None,
            "created_at": _iso(conversation.created_at) if conversation else None,
            "last_activity_at": _iso(conversation.last_activity_at) if conversation else None,
            "verified_email": conversation.customer_email if conversation else None,
            "messages": [
                {
                    "sender": m.sender,
                    "text": m.text,
                    "agent_name": m.agent_name,
                    "created_at": _iso(m.created_at),
                }
                for m in messages
            ],
            "handoffs": [
                {
                    "status": h.status,
                    "reason": h.reason,
                    "created_at": _iso(h.created_at),
                    "resolved_at": _iso(h.resolved_at),
                    "contact_email": h.contact_email,
                    "promise": h.promise,
                    "csat": h.csat,
                    "csat_comment": h.csat_comment,
                    "context": h.context,
                    "notes": notes[h.id],
                }
                for h in handoffs
            ],
        }

    @staticmethod
    def _export_shop(session: Session, address: str) -> dict[str, Any] | None:
        customer = session.scalars(select(Customer).where(Customer.email == address)).one_or_none()
        if customer is None:
            return None
        return {
            "name": customer.name,
            "language": customer.language,
            "created_at": _iso(customer.created_at),
            "orders": [
                {
                    "number": order.number,
                    "status": order.status,
                    "ordered_at": order.ordered_at.isoformat(),
                    "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in order.items],
                    "returns": [
                        {"rma": r.rma, "items": r.items, "reason": r.reason, "created_at": _iso(r.created_at)}
                        for r in session.scalars(
                            select(ReturnRequest).where(ReturnRequest.order_id == order.id)
                        )
                    ],
                }
                for order in customer.orders
            ],
        }

    # --- erasure ----------------------------------------------------------
    def erase(self, email: str) -> Removed:
        """Remove the address's conversations, trackers and mail; the shop account is not touched."""
        address = normalise_email(email)
        if address is None:
            raise ValueError(f"not an email address: {email!r}")
        removed = Removed()
        with session_scope(self.url) as session:
            ids = self._conversations_of(session, address)
            self._delete_conversations(session, ids, removed)
            removed.add(
                "outbox", _delete(session, OutboxEmail, func.lower(OutboxEmail.to_address) == address)
            )
            customer_id = session.scalar(select(Customer.id).where(Customer.email == address))
            if customer_id is not None:
                removed.add(
                    "password_reset_tokens",
                    _delete(session, PasswordResetToken, PasswordResetToken.customer_id == customer_id),
                )
        removed.add("rasa_events", self.tracker_store.delete(ids))
        return removed

    @staticmethod
    def _delete_conversations(session: Session, ids: list[str], removed: Removed) -> None:
        for batch in chunks(ids):
            handoff_ids = select(Handoff.id).where(Handoff.conversation_id.in_(batch))
            removed.add("agent_notes", _delete(session, AgentNote, AgentNote.handoff_id.in_(handoff_ids)))
            for kind, model, column in (
                ("handoffs", Handoff, Handoff.conversation_id),
                ("handoff_requests", HandoffRequest, HandoffRequest.conversation_id),
                ("messages", ChatMessage, ChatMessage.conversation_id),
                ("conversations", Conversation, Conversation.id),
            ):
                removed.add(kind, _delete(session, model, column.in_(batch)))

    # --- retention --------------------------------------------------------
    def purge_expired(self, now: datetime | None = None) -> Removed:
        """Erase what is older than the retention period, and rate-limit rows past their window."""
        now = now or datetime.utcnow()
        cutoff = now - timedelta(days=self.settings.retention_days)
        removed = Removed()
        with session_scope(self.url) as session:
            idle = list(
                session.scalars(select(Conversation.id).where(Conversation.last_activity_at < cutoff))
            )
            self._delete_conversations(session, idle, removed)
            removed.add(
                "outbox",
                _delete(
                    session, OutboxEmail, or_(OutboxEmail.sent_at < cutoff, OutboxEmail.created_at < cutoff)
                ),
            )
            # Rate-limit rows are useless once out of their window.
            for kind, column, window in (
                ("verification_attempts", VerificationAttempt.created_at, self.verification_window),
                ("handoff_requests", HandoffRequest.created_at, HANDOFF_LIMIT_WINDOW),
                ("password_reset_requests", PasswordResetRequest.created_at, RATE_LIMIT_WINDOW),
            ):
                removed.add(kind, _delete(session, column.class_, column < now - window))
            removed.add(
                "password_reset_tokens",
                _delete(session, PasswordResetToken, PasswordResetToken.expires_at < now),
            )
        # Trackers of purged conversations, and any tracker idle as long (e.g. no app conversation).
        senders = set(idle) | set(self.tracker_store.idle_senders(cutoff.replace(tzinfo=UTC).timestamp()))
        removed.add("rasa_events", self.tracker_store.delete(sorted(senders)))
        removed.add("outbox_links_forgotten", forget_unsent(self.url, RESET_TOKEN_TTL))
        return removed


def _delete(session: Session, model: type, *criteria: Any) -> int:
    statement = delete(model).where(*criteria).execution_options(synchronize_session=False)
    return int(session.execute(statement).rowcount or 0)
