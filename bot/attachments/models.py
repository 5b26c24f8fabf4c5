"""The attachments table: the cleaned bytes live in the app database, beside their conversation.

In the database, not on a disk: every gateway of a multi-node setup reads the same rows, the
backup holds them, and erasing a conversation removes its files in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import deferred

from bot.db import Base
from bot.shop.models import utcnow

# MEDIUMBLOB on MySQL/MariaDB (a plain BLOB stops at 64 KiB); bytea / BLOB elsewhere.
MAX_STORED_BYTES = 16 * 1024 * 1024 - 1


class Attachment(Base):
    __tablename__ = "attachments"
    id = Column(Integer, primary_key=True)
    # The unguessable part of its URL (secrets.token_urlsafe(32)).
    token = Column(String(64), unique=True, nullable=False)
    conversation_id = Column(String(64), ForeignKey("conversations.id"), nullable=False, index=True)
    kind = Column(String(8), nullable=False)  # image | pdf
    content_type = Column(String(40), nullable=False)
    filename = Column(String(120), nullable=False)
    size = Column(Integer, nullable=False)
    width = Column(Integer, nullable=True)
    height = Column(Integer, nullable=True)
    uploaded_by = Column(String(10), nullable=False)  # customer | agent
    created_at = Column(DateTime, default=utcnow, nullable=False)
    data = deferred(Column(LargeBinary(length=MAX_STORED_BYTES), nullable=False))
