"""Handoff flood limit: how many handoffs one client address or one session may open.

A script that opens a session and asks for a person, again and again, would push
real customers out of the agents' view. Counts live in the database, so every
gateway and action-server process sees the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.db import session_scope
from bot.handoff.models import HandoffRequest
from bot.shop.security import keyed_hash

WINDOW = timedelta(hours=1)


class HandoffLimiter:
    def __init__(self, database_url: str, secret: bytes, per_client: int, per_session: int) -> None:
        self.url = database_url
        self.secret = secret
        self.per_client = per_client
        self.per_session = per_session

    def allow(self, conversation_id: str, client_address: str | None, now: datetime | None = None) -> bool:
        """Count one new handoff; False (and not counted) when the client or session is at its limit."""
        now = now or datetime.utcnow()
        client = keyed_hash(self.secret, f"client:{client_address}") if client_address else None
        recent = HandoffRequest.created_at >= now - WINDOW
        with session_scope(self.url) as session:
            by_session = session.scalar(
                select(func.count()).where(HandoffRequest.conversation_id == conversation_id, recent)
            )
            by_client = (
                session.scalar(select(func.count()).where(HandoffRequest.client_hash == client, recent))
                if client
                else 0
            )
            if by_session >= self.per_session or by_client >= self.per_client:
                return False
            session.add(HandoffRequest(conversation_id=conversation_id, client_hash=client, created_at=now))
            return True
