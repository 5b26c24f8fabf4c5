"""The Socket.IO connections this gateway holds, so the server can close them.

A push reaches whoever is in a room; leaving it to the client to go away would let a
revoked console or an ended chat go on listening. So each gateway remembers who every
connection belongs to and closes them itself:

- at once, on this gateway, when the action happens here (logout, password change,
  disabling a login; ending or erasing a chat);
- within ``SWEEP_SECONDS`` on every gateway, by a sweep that re-checks its connections
  against the database (a revocation or erasure done on another gateway or by the
  command line, and chats that expired while idle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import Agent
from bot.messages.models import Conversation

log = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0
EXTENSION = "live_connections"


class Party(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Connection:
    party: Party
    key: str  # the agent's id, or the customer's conversation id
    generation: int = 0  # an agent's session generation when it connected


class LiveConnections:
    def __init__(self, socketio: Any, database_url: str, idle_after: timedelta) -> None:
        self.socketio = socketio
        self.url = database_url
        self.idle_after = idle_after
        self._by_sid: dict[str, Connection] = {}

    def add(self, sid: str, connection: Connection) -> None:
        self._by_sid[sid] = connection

    def remove(self, sid: str) -> None:
        self._by_sid.pop(sid, None)

    def _close(self, sids: list[str]) -> int:
        for sid in sids:
            self._by_sid.pop(sid, None)
            try:
                self.socketio.server.disconnect(sid, namespace="/")
            except Exception:  # already gone: nothing left to close
                log.debug("socket %s was already closed", sid)
        return len(sids)

    def close_agent(self, agent_id: int) -> int:
        """Close every connection of this agent on this gateway (their session was revoked)."""
        key = str(agent_id)
        return self._close([s for s, c in list(self._by_sid.items()) if c.party is Party.AGENT and c.key == key])

    def close_conversation(self, conversation_id: str) -> int:
        """Close the customer's connections to this chat (ended or erased)."""
        return self._close(
            [
                s
                for s, c in list(self._by_sid.items())
                if c.party is Party.CUSTOMER and c.key == conversation_id
            ]
        )

    def sweep(self, now: datetime | None = None) -> int:
        """Close connections whose session no longer holds; returns how many were closed."""
        now = now or datetime.utcnow()
        held = list(self._by_sid.items())
        agent_ids = {int(c.key) for _, c in held if c.party is Party.AGENT}
        conversation_ids = {c.key for _, c in held if c.party is Party.CUSTOMER}
        with session_scope(self.url) as session:
            generations = dict(
                session.execute(
                    select(Agent.id, Agent.session_generation).where(
                        Agent.id.in_(agent_ids or {-1}), Agent.disabled_at.is_(None)
                    )
                ).all()
            )
            active = set(
                session.scalars(
                    select(Conversation.id).where(
                        Conversation.id.in_(conversation_ids or {""}),
                        Conversation.ended_at.is_(None),
                        Conversation.last_activity_at >= now - self.idle_after,
                    )
                )
            )
        stale = [
            sid
            for sid, c in held
            if (c.party is Party.AGENT and generations.get(int(c.key)) != c.generation)
            or (c.party is Party.CUSTOMER and c.key not in active)
        ]
        return self._close(stale)


def _registry() -> LiveConnections | None:
    return current_app.extensions.get(EXTENSION)


def close_agent_connections(agent_id: int) -> None:
    """After a logout, password change or disable: the agent's consoles here stop at once."""
    registry = _registry()
    if registry is not None:
        registry.close_agent(agent_id)


def close_conversation_connections(conversation_id: str) -> None:
    """After a chat was ended or erased: the customer's widget here stops listening at once."""
    registry = _registry()
    if registry is not None:
        registry.close_conversation(conversation_id)
