"""Retention, export and erasure of one customer's data.

What the bot holds about a person: conversations (messages, handoffs with their
context, agents' notes), the Rasa tracker of each conversation, and mail in the
outbox. A conversation belongs to an email when it was verified with it, when the
customer left it for a reply, or when the customer typed it. Whose data is whose is
decided by exact matching: the normalised address equals the verified or contact
email, or stands as a whole token in what the customer typed (a LIKE narrows the
candidates with its wildcards escaped; a token check in Python decides). So
``px@example.com`` never finds ``zpx@example.com`` and ``a_b@`` never finds ``aXb@``.
Exports and listings name a conversation by a reference derived from its id, never
by the id itself: the id is the widget's bearer token. The shop's own
records (account, orders, returns, invoices) are the shop's to keep or delete
under its own rules and are exported, never erased, here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.analytics.models import AnalyticsEvent
from bot.attachments.store import delete_of as delete_attachments
from bot.attachments.store import metadata_of as attachments_of
from bot.db import session_scope
from bot.handoff.limits import WINDOW as HANDOFF_LIMIT_WINDOW
from bot.handoff.models import AgentNote, Handoff, HandoffRequest
from bot.messages.models import ChatMessage, Conversation, InboundReceipt, OutboundDelivery
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
    conversation_ids: list[str] = field(default_factory=list)  # erased: their live sockets are closed

    def add(self, kind: str, number: int) -> None:
        if number:
            self.counts[kind] = self.counts.get(kind, 0) + int(number)

    def total(self) -> int:
        return sum(self.counts.values())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def conversation_ref(conversation_id: str) -> str:
    """How exports and listings name a conversation: stable, but no use as a session id."""
    return hashlib.sha256(f"conversation:{conversation_id}".encode()).hexdigest()[:16]


# Characters that may stand next to an address inside a longer one: any of them before it
# (``zpx@...``) or a domain character after it (``...example.com.evil``) makes it another address.
_LOCAL_CHARS = r"a-z0-9.!#$%&'*+/=?^_`{|}~-"


def typed_address(text: str, address: str) -> bool:
    """Whether ``address`` (normalised) stands in ``text`` as a whole token."""
    pattern = rf"(?<![{_LOCAL_CHARS}]){re.escape(address)}(?![a-z0-9-]|\.[a-z0-9])"
    return re.search(pattern, text.lower()) is not None


class MatchedBy(StrEnum):
    VERIFIED = "verified email"
    CONTACT = "contact email"
    TYPED = "typed by the customer"


@dataclass(frozen=True)
class FoundConversation:
    """One conversation an export or erase covers, as listed to a supervisor before an erase."""

    ref: str
    matched_by: tuple[MatchedBy, ...]
    created_at: datetime | None
    last_activity_at: datetime | None
    messages: int

    def describe(self) -> str:
        started = self.created_at.strftime("%Y-%m-%d %H:%M") if self.created_at else "?"
        return f"{self.ref}  started {started} UTC, {self.messages} messages ({', '.join(self.matched_by)})"


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
    def _matches(session: Session, email: str) -> dict[str, set[MatchedBy]]:
        """Conversation id -> why it is this address's; exact matches only (see the module doc)."""
        found: dict[str, set[MatchedBy]] = {}
        verified = select(Conversation.id).where(func.lower(func.trim(Conversation.customer_email)) == email)
        left_contact = select(Handoff.conversation_id).where(func.lower(func.trim(Handoff.contact_email)) == email)
        for why, query in ((MatchedBy.VERIFIED, verified), (MatchedBy.CONTACT, left_contact)):
            for conversation_id in session.scalars(query):
                found.setdefault(conversation_id, set()).add(why)
        candidates = session.execute(
            select(ChatMessage.conversation_id, ChatMessage.text).where(
                ChatMessage.sender == "customer",
                func.lower(ChatMessage.text).contains(email, autoescape=True),
            )
        )
        for conversation_id, text in candidates:
            if typed_address(text or "", email):
                found.setdefault(conversation_id, set()).add(MatchedBy.TYPED)
        return found

    @classmethod
    def _conversations_of(cls, session: Session, email: str) -> list[str]:
        return sorted(cls._matches(session, email))

    def find(self, email: str) -> list[FoundConversation]:
        """The conversations an export or erase of ``email`` covers (listed before an erase)."""
        address = _address(email)
        with session_scope(self.url) as session:
            matches = self._matches(session, address)
            counts = dict(
                session.execute(
                    select(ChatMessage.conversation_id, func.count())
                    .where(ChatMessage.conversation_id.in_(list(matches) or [""]))
                    .group_by(ChatMessage.conversation_id)
                ).all()
            )
            found = []
            for conversation_id, why in matches.items():
                conversation = session.get(Conversation, conversation_id)
                found.append(
                    FoundConversation(
                        ref=conversation_ref(conversation_id),
                        matched_by=tuple(m for m in MatchedBy if m in why),
                        created_at=conversation.created_at if conversation else None,
                        last_activity_at=conversation.last_activity_at if conversation else None,
                        messages=int(counts.get(conversation_id, 0)),
                    )
                )
        return sorted(found, key=lambda f: (f.created_at or datetime.min, f.ref))

    # --- export -----------------------------------------------------------
    def export(self, email: str) -> dict[str, Any]:
        """Everything held about the address, as JSON-ready data."""
        address = _address(email)
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
        for conversation_id, conversation in zip(ids, conversations, strict=True):
            conversation["rasa_tracker_events"] = trackers.get(conversation_id, [])
            # Rasa's events may repeat the sender id (the session id) anywhere: the reference stands in.
            conversation.update(_scrubbed(conversation, conversation_id, conversation["ref"]))
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
            "ref": conversation_ref(conversation_id),  # never the id: it would let the reader into the chat
            "language": conversation.language if conversation else None,
            # Where it took place, and the Telegram chat id / mail thread it was answered in.
            "channel": conversation.channel if conversation else None,
            "channel_thread": conversation.channel_thread if conversation else None,
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
            # Names, types and sizes; the files themselves are shown in the chat, not exported.
            "attachments": attachments_of(session, conversation_id),
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
    def erase(self, email: str, only: set[str] | None = None) -> Removed:
        """Remove the address's conversations, trackers and mail; the shop account is not touched.

        ``only``: the references listed to the supervisor who confirmed; a conversation found
        since then is left for the next erase (it is listed then), never erased unseen.
        """
        address = _address(email)
        removed = Removed()
        with session_scope(self.url) as session:
            ids = self._conversations_of(session, address)
            if only is not None:
                ids = [i for i in ids if conversation_ref(i) in only]
            removed.conversation_ids = ids
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
                ("analytics_events", AnalyticsEvent, AnalyticsEvent.conversation_id),
                ("outbound_deliveries", OutboundDelivery, OutboundDelivery.conversation_id),
                ("inbound_receipts", InboundReceipt, InboundReceipt.conversation_id),
                ("messages", ChatMessage, ChatMessage.conversation_id),
            ):
                removed.add(kind, _delete(session, model, column.in_(batch)))
            # After the messages that point at them, before their conversations.
            removed.add("attachments", delete_attachments(session, batch))
            removed.add("conversations", _delete(session, Conversation, Conversation.id.in_(batch)))

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


def _scrubbed(value: Any, secret: str, stand_in: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, stand_in)
    if isinstance(value, dict):
        return {_scrubbed(k, secret, stand_in): _scrubbed(v, secret, stand_in) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secret, stand_in) for v in value]
    return value


def _address(email: str) -> str:
    address = normalise_email(email)
    if address is None:
        raise ValueError(f"not an email address: {email!r}")
    return address


def _delete(session: Session, model: type, *criteria: Any) -> int:
    statement = delete(model).where(*criteria).execution_options(synchronize_session=False)
    return int(session.execute(statement).rowcount or 0)
