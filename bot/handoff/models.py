"""Conversation log and handoff tables (the gateway and the action server share them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.db import Base
from bot.shop.models import utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    id = Column(String(64), primary_key=True)  # the widget's random session id
    language = Column(String(5), default="en", nullable=False)
    mode = Column(String(12), default="bot", nullable=False)  # bot | handoff
    created_at = Column(DateTime, default=utcnow, nullable=False)
    last_activity_at = Column(DateTime, default=utcnow, nullable=False)
    customer_email = Column(String(254), nullable=True)  # set once verified
    # True from a live handoff until the gateway has resumed the Rasa tracker.
    rasa_paused = Column(Boolean, default=False, nullable=False)


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id", name="uq_client_message"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    sender = Column(String(10), nullable=False)  # customer | bot | agent | system
    text = Column(Text, nullable=False, default="")
    buttons = Column(JSON(none_as_null=True), nullable=True)
    agent_name = Column(String(80), nullable=True)
    client_id = Column(String(64), nullable=True)  # idempotency key from the widget
    meta = Column(JSON(none_as_null=True), nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    # Customer messages on their way to Rasa: none (not for the bot) | pending | relaying | done.
    relay_state = Column(String(10), default="none", nullable=False, server_default="none")
    relay_node = Column(String(64), nullable=True)  # the gateway that is delivering it
    relay_claimed_at = Column(DateTime, nullable=True)


Index("ix_chat_messages_relay", ChatMessage.relay_state, ChatMessage.conversation_id)


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False)
    display_name = Column(String(80), nullable=False)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    last_seen_at = Column(DateTime, nullable=True)


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
    claimed_at = Column(DateTime, nullable=True)
    first_agent_reply_at = Column(DateTime, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    csat = Column(Integer, nullable=True)
    csat_comment = Column(Text, nullable=True)


class AgentNote(Base):
    __tablename__ = "agent_notes"
    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"), nullable=False, index=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)
