"""Agent accounts: hashed passwords (werkzeug scrypt), no plain text anywhere."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from bot.db import session_scope
from bot.handoff.models import Agent, AgentNote, Handoff

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
    """Create the agent, or set a new password (and role); returns True when created.

    The database must be migrated already (``bot.migrations.init_db``, which services do).
    """
    _check(username, password, role)
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
    """Disable (or enable again) a login; False when there is no such agent.

    Disabling revokes every session for good: the session generation moves on, so
    enabling the login again does not revive a cookie issued before. The agent's
    conversations go back to the queue (a note says why), so nobody waits on a login
    that can no longer answer.
    """
    now = datetime.utcnow()
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            return False
        if not disabled:
            agent.disabled_at = None
            return True
        agent.disabled_at = agent.disabled_at or now
        agent.session_generation = (agent.session_generation or 0) + 1
        agent.presence = "offline"
        held = session.scalars(
            select(Handoff.id).where(Handoff.agent_id == agent_id, Handoff.status == "assigned")
        ).all()
        if held:
            session.execute(
                update(Handoff)
                .where(Handoff.id.in_(held), Handoff.status == "assigned", Handoff.agent_id == agent_id)
                .values(status="queued", agent_id=None, claimed_at=None, queued_at=now)
                .execution_options(synchronize_session=False)
            )
            text = f"Returned to the queue: {agent.display_name}'s login was disabled."
            session.add_all(
                AgentNote(handoff_id=h, agent_id=agent_id, text=text, kind="transfer") for h in held
            )
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


def set_locale(url: str, agent_id: int, locale: str, allowed: tuple[str, ...]) -> None:
    """The console's language for this agent, remembered across sessions and browsers."""
    if locale not in allowed:
        raise ValueError(f"language is one of {', '.join(allowed)}")
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            agent.locale = locale


def touch(url: str, agent_id: int) -> Agent | None:
    """The console's heartbeat: the agent's browser is still there (presence is set apart)."""
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is not None:
            agent.last_seen_at = datetime.utcnow()
        return agent
