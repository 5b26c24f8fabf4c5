"""Handoff tables: agents, handoffs, notes, labels (the gateway and the action server share them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.db import Base
from bot.shop.models import utcnow


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False)
    display_name = Column(String(80), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(12), nullable=False, default="agent", server_default="agent")  # agent | supervisor
    disabled_at = Column(DateTime, nullable=True)  # a disabled agent can no longer log in
    created_at = Column(DateTime, default=utcnow, nullable=False)
    last_seen_at = Column(DateTime, nullable=True)
    # Set by the agent in the console: online | away | offline. Only "online" agents take chats.
    presence = Column(String(8), default="offline", nullable=False, server_default="offline")
    # Bumped by logout and password change: every cookie issued before stops working.
    session_generation = Column(Integer, default=0, nullable=False, server_default="0")
    # The console's language for this agent (en/ru/sk/hu); None: the browser's preference.
    locale = Column(String(5), nullable=True)


class Handoff(Base):
    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    # queued -> assigned -> resolved; or ticket (offline: answered by email later)
    status = Column(String(12), default="queued", nullable=False, index=True)
    reason = Column(String(40), nullable=False)
    language = Column(String(5), nullable=False)
    context = Column(JSON, nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=True)
    contact_email = Column(String(254), nullable=True)
    promise = Column(Text, nullable=True)  # what we told the customer we would do
    promise_due_at = Column(DateTime, nullable=True)
    promise_kept_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    # When it (last) joined the queue: at the start, or when an agent gave it back.
    queued_at = Column(DateTime, default=utcnow, nullable=True)
    claimed_at = Column(DateTime, nullable=True)
    first_agent_reply_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    csat = Column(Integer, nullable=True)
    csat_comment = Column(Text, nullable=True)
    # Nobody claimed it in time: it became a ticket at this moment (see HandoffService.expire_unclaimed).
    timed_out_at = Column(DateTime, nullable=True)
    # The email answer an agent sent from the console (the promise it kept).
    email_reply_at = Column(DateTime, nullable=True)


class AgentNote(Base):
    __tablename__ = "agent_notes"
    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"), nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    text = Column(Text, nullable=False)
    # note | transfer | email (an email answer sent from the console; its text is the body)
    kind = Column(String(10), default="note", nullable=False, server_default="note")
    created_at = Column(DateTime, default=utcnow, nullable=False)


class ConversationLabel(Base):
    """Labels agents put on a conversation (e.g. ``refund``, ``vip``); the queue filters by them."""

    __tablename__ = "conversation_labels"
    __table_args__ = (UniqueConstraint("conversation_id", "label", name="uq_conversation_label"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    label = Column(String(32), nullable=False, index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class HandoffRequest(Base):
    """Every handoff opened, with who asked: the flood limit counts these (bot.handoff.limits)."""

    __tablename__ = "handoff_requests"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(64), nullable=False, index=True)
    client_hash = Column(String(64), nullable=True, index=True)  # keyed hash of the address
    created_at = Column(DateTime, default=utcnow, nullable=False, index=True)
