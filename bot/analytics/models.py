"""The analytics events table; everything else is derived from conversations, messages and handoffs."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, LargeBinary, String, Text, UniqueConstraint

from bot.db import Base
from bot.shop.models import utcnow


class AnalyticsEvent(Base):
    """One thing that happened in a conversation that the tables of the chat itself don't hold.

    ``text`` is the customer's (redacted) message for the unanswered kinds, so the
    content team can read it; other kinds leave it empty.
    """

    __tablename__ = "analytics_events"
    # One vote per FAQ answer message (a changed vote replaces the first).
    __table_args__ = (UniqueConstraint("kind", "message_id", name="uq_event_message"),)
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, default=utcnow, nullable=False, index=True)
    conversation_id = Column(String(64), nullable=True, index=True)
    kind = Column(String(24), nullable=False)
    language = Column(String(5), nullable=True)
    channel = Column(String(16), nullable=False, default="web", server_default="web")
    faq_id = Column(String(64), nullable=True)  # the entry answered, or the nearest one
    score = Column(Float, nullable=True)
    value = Column(Integer, nullable=True)  # thumbs: +1 / -1
    message_id = Column(Integer, nullable=True)  # the bot message a vote is about
    text = Column(Text, nullable=True)
    comment = Column(Text, nullable=True)  # "what was missing?"
    # Set when the content team acted on the gap group holding this message.
    addressed_entry = Column(String(64), nullable=True)
    addressed_at = Column(DateTime, nullable=True)
    # A supervisor dismissed the gap group holding this message (a group with newer messages returns).
    dismissed_at = Column(DateTime, nullable=True)
    # The message's embedding, filled by the gap report on first use (float32 bytes).
    embedding = Column(LargeBinary, nullable=True)
    embedding_model = Column(String(80), nullable=True)


Index("ix_analytics_kind_time", AnalyticsEvent.kind, AnalyticsEvent.created_at)

# Tables holding per-conversation analytics, keyed by conversation_id: a privacy
# erase of a conversation must delete its rows here too (see bot.analytics.events.erase_conversation).
PERSONAL_TABLES = ("analytics_events",)
