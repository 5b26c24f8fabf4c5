"""Order verification with failed attempts counted in the database.

A failed number + email check is counted against the order number, the email,
the session and the client address (each as a keyed hash). Once any of them
reaches its limit, no order is looked up for that key, not even with the right
pair, until the window has passed. Nothing in the conversation ("stop", a
restart, a new session) can reset the count: it is not in the conversation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.db import session_scope
from bot.settings import VerificationSettings
from bot.shop.models import VerificationAttempt
from bot.shop.security import keyed_hash, normalise_email
from bot.shop.store import OrderView, ShopStore


@dataclass(frozen=True)
class Requester:
    """Who is asking: the conversation and, when the gateway sent it, the client address."""

    session_id: str
    client_address: str | None = None


@dataclass(frozen=True)
class Lockout:
    retry_after_minutes: int


@dataclass(frozen=True)
class VerificationResult:
    order: OrderView | None
    lockout: Lockout | None = None

    @property
    def verified(self) -> bool:
        return self.order is not None


class VerificationGuard:
    def __init__(
        self, database_url: str, secret: bytes, store: ShopStore, settings: VerificationSettings
    ) -> None:
        self.url = database_url
        self.secret = secret
        self.store = store
        self.settings = settings

    def _keys(
        self, requester: Requester, order_number: str | None, email: str | None
    ) -> dict[str, tuple[str, int]]:
        """Column name -> (keyed hash, limit) for every key that is known."""
        limit, per_client = self.settings.max_failures, self.settings.max_failures_per_client
        keys = {"session_hash": (keyed_hash(self.secret, f"session:{requester.session_id}"), limit)}
        if requester.client_address:
            keys["client_hash"] = (keyed_hash(self.secret, f"client:{requester.client_address}"), per_client)
        if order_number:
            keys["order_hash"] = (keyed_hash(self.secret, f"order:{order_number.strip()}"), limit)
        address = normalise_email(email or "")
        if address:
            keys["email_hash"] = (keyed_hash(self.secret, f"email:{address}"), limit)
        return keys

    def lockout(
        self, requester: Requester, order_number: str | None = None, email: str | None = None
    ) -> Lockout | None:
        """Whether any known key is at its limit, and for how long; counts nothing."""
        now = datetime.utcnow()
        window = timedelta(minutes=self.settings.window_minutes)
        until: datetime | None = None
        with session_scope(self.url) as session:
            for column, (value, limit) in self._keys(requester, order_number, email).items():
                recent = (
                    select(VerificationAttempt.created_at)
                    .where(getattr(VerificationAttempt, column) == value)
                    .where(VerificationAttempt.created_at >= now - window)
                    .order_by(VerificationAttempt.created_at.desc())
                    .limit(limit)
                )
                times = list(session.scalars(recent))
                if len(times) >= limit:
                    # Free again once the oldest of the last `limit` failures leaves the window.
                    free_at = times[-1] + window
                    until = max(until, free_at) if until else free_at
        if until is None:
            return None
        return Lockout(max(1, math.ceil((until - now).total_seconds() / 60)))

    def verify(self, requester: Requester, order_number: str, email: str) -> VerificationResult:
        """The order when the pair matches and nothing is locked; a mismatch is counted."""
        locked = self.lockout(requester, order_number, email)
        if locked is not None:
            return VerificationResult(None, locked)
        order = self.store.find_verified_order(order_number or "", email or "")
        if order is not None:
            return VerificationResult(order)
        keys = self._keys(requester, order_number, email)
        with session_scope(self.url) as session:
            session.add(VerificationAttempt(**{column: value for column, (value, _) in keys.items()}))
        return VerificationResult(None, self.lockout(requester, order_number, email))
