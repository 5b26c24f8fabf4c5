"""Conversation and message tables: the message log (the gateway and the action server share them)."""

from __future__ import annotations

from enum import StrEnum

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
from sqlalchemy.orm import relationship

import bot.attachments.models  # noqa: F401 - the Attachment a message points to
from bot.db import Base
from bot.shop.models import utcnow


class Channel(StrEnum):
    """Where a conversation takes place; its replies go back the same way (bot.channels)."""

    WIDGET = "widget"
    EMAIL = "email"
    TELEGRAM = "telegram"


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
    ended_at = Column(DateTime, nullable=True)  # "end chat": the id is never accepted again
    channel = Column(String(16), default=Channel.WIDGET.value, nullable=False, server_default="widget")
    # Where the channel sends replies: a Telegram chat id, an email thread key; None for the widget.
    channel_thread = Column(String(255), nullable=True)


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
    # A customer message's language (en/ru/sk/hu), None when it can't tell ("ok", a button).
    language = Column(String(5), nullable=True)
    # A photo or PDF sent with (or as) this message (bot.attachments); never read by the bot.
    attachment_id = Column(Integer, ForeignKey("attachments.id"), nullable=True)
    attachment = relationship("Attachment", lazy="joined")


Index("ix_chat_messages_relay", ChatMessage.relay_state, ChatMessage.conversation_id)
Index("ix_conversations_channel_thread", Conversation.channel, Conversation.channel_thread)


class InboundReceipt(Base):
    """One row per message a channel handed us (Telegram update_id, email Message-ID): a resent
    one is recognised and stored once. Written in the transaction that stores the message."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_inbound_receipt"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    external_id = Column(String(255), nullable=False)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class OutboundState(StrEnum):
    PENDING = "pending"  # waiting for (another) attempt
    SENDING = "sending"  # claimed by a process that is sending it now
    SENT = "sent"
    FAILED = "failed"  # refused for good by the channel (e.g. the customer blocked the bot); logged


class OutboundDelivery(Base):
    """A message to send through the conversation's channel (not the widget, which reads the log).

    Created in the transaction that stores the message, so a reply is never stored without
    its delivery; sent by bot.channels.outbound, retried with a growing pause until it is sent.
    """

    __tablename__ = "outbound_deliveries"
    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("chat_messages.id"), nullable=False, unique=True)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    state = Column(String(10), default=OutboundState.PENDING.value, nullable=False)
    attempts = Column(Integer, default=0, nullable=False)
    next_attempt_at = Column(DateTime, default=utcnow, nullable=False)
    claimed_at = Column(DateTime, nullable=True)
    last_error = Column(String(200), nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    sent_at = Column(DateTime, nullable=True)


Index("ix_outbound_deliveries_due", OutboundDelivery.state, OutboundDelivery.next_attempt_at)
