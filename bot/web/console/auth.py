"""Console sessions that the server can revoke.

The signed cookie alone would stay valid until it expires, so a copied cookie
would outlive a logout. Each session therefore also carries the agent's
``session_generation`` from the database: logout and password change bump it,
and every request and socket connection compares the two. A session is also
refused after an absolute lifetime (``console.session_hours``), however active.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import update

from bot.db import session_scope
from bot.handoff.models import Agent
from bot.web.console.read_models import AgentView, agent_view

SESSION_KEYS = ("agent_id", "generation", "login_at")


def start_session(session: MutableMapping[str, Any], agent: AgentView) -> None:
    """A fresh session (and CSRF token) at every login: no fixation."""
    session.clear()
    session["agent_id"] = agent.id
    session["generation"] = agent.session_generation
    session["login_at"] = int(time.time())


def current_agent(url: str, session: MutableMapping[str, Any], lifetime_hours: float) -> AgentView | None:
    """The agent this session belongs to, or None if it was revoked, expired or never existed."""
    login_at = session.get("login_at")
    if not isinstance(login_at, int) or time.time() - login_at > lifetime_hours * 3600:
        return None
    agent = agent_view(url, session.get("agent_id"))
    if agent is None or session.get("generation") != agent.session_generation:
        return None
    return agent


def revoke_sessions(url: str, agent_id: int, presence: str | None = "offline") -> None:
    """Every session of this agent stops working, on every gateway (the check reads the database)."""
    values: dict[str, Any] = {"session_generation": Agent.session_generation + 1}
    if presence:
        values["presence"] = presence
    with session_scope(url) as db:
        db.execute(update(Agent).where(Agent.id == agent_id).values(**values))
