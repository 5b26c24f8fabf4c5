"""Agent accounts: hashed passwords (werkzeug scrypt), no plain text anywhere."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from bot.db import init_db, session_scope
from bot.handoff.models import Agent

MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
# Verifying against a dummy hash keeps the timing the same for unknown users.
_DUMMY_HASH = generate_password_hash("timing-equaliser-not-a-password")


ROLES = ("agent", "supervisor")


def _check(username: str, password: str, role: str | None) -> None:
    if not USERNAME.match(username):
        raise ValueError("login names use letters, digits, dot, dash or underscore (2-64)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of: {', '.join(ROLES)}")


def upsert_agent(
    url: str, username: str, password: str, display_name: str | None = None, role: str | None = None
) -> bool:
    """Create the agent, or set a new password (and role); returns True when created."""
    _check(username, password, role)
    init_db(url)
    with session_scope(url) as session:
        agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        hashed = generate_password_hash(password)
        if agent is None:
            session.add(
                Agent(
                    username=username,
                    display_name=display_name or username,
                    password_hash=hashed,
                    role=role or "agent",
                )
            )
            return True
        agent.password_hash = hashed
        agent.session_generation = (agent.session_generation or 0) + 1  # a new password logs out everywhere
        if display_name:
            agent.display_name = display_name
        if role:
            agent.role = role
        return False


def create_agent(url: str, username: str, password: str, display_name: str | None, role: str) -> int:
    """A new login (a supervisor adding a colleague); ValueError when the name is taken."""
    _check(username, password, role)
    with session_scope(url) as session:
        if session.execute(select(Agent.id).where(Agent.username == username)).first():
            raise ValueError(f"the login {username} is taken")
        agent = Agent(
            username=username,
            display_name=(display_name or username)[:80],
            password_hash=generate_password_hash(password),
            role=role,
        )
        session.add(agent)
        session.flush()
        return agent.id


def list_agents(url: str) -> list[dict]:
    with session_scope(url) as session:
        return [
            {
                "id": a.id,
                "username": a.username,
                "display_name": a.display_name,
                "role": a.role,
                "disabled": a.disabled_at is not None,
                "last_seen_at": a.last_seen_at,
            }
            for a in session.execute(select(Agent).order_by(Agent.username)).scalars()
        ]


def set_disabled(url: str, agent_id: int, disabled: bool) -> bool:
    """Disable (or enable again) a login; a disabled agent's open sessions stop working at once."""
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            return False
        agent.disabled_at = datetime.utcnow() if disabled else None
        return True


def reset_password(url: str, agent_id: int, password: str) -> bool:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            return False
        agent.password_hash = generate_password_hash(password)
        agent.session_generation = (agent.session_generation or 0) + 1  # the old password's sessions end
        return True


def authenticate(url: str, username: str, password: str) -> Agent | None:
    with session_scope(url) as session:
        agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        if agent is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(agent.password_hash, password) or agent.disabled_at is not None:
            return None
        agent.last_seen_at = datetime.utcnow()
        return agent


def change_password(url: str, agent_id: int, current: str, new: str) -> bool:
    """Set a new password if ``current`` is right; every existing session is revoked."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the new password is too short: at least {MIN_PASSWORD_LENGTH} characters")
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None or not check_password_hash(agent.password_hash, current):
            return False
        agent.password_hash = generate_password_hash(new)
        agent.session_generation = (agent.session_generation or 0) + 1
        return True


PRESENCE = ("online", "away", "offline")


def set_presence(url: str, agent_id: int, presence: str) -> None:
    if presence not in PRESENCE:
        raise ValueError(f"presence is one of {', '.join(PRESENCE)}")
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            agent.presence = presence
            agent.last_seen_at = datetime.utcnow()


def touch(url: str, agent_id: int) -> Agent | None:
    """The console's heartbeat: the agent's browser is still there (presence is set apart)."""
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            agent.last_seen_at = datetime.utcnow()
        return agent
