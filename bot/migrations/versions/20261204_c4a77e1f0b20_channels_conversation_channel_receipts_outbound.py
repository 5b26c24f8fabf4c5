"""Channels: a conversation's channel (widget, email, telegram) and where its replies go; inbound
receipts (a resent Telegram update or mail is stored once); outbound deliveries (replies sent
through the channel, retried until sent).

Conversations stored before this revision are widget conversations (the only channel then).

Revision ID: c4a77e1f0b20
Revises: a5e16f0c0b1d
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4a77e1f0b20"
down_revision = "a5e16f0c0b1d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default="widget", nullable=False)
        )
        batch_op.add_column(sa.Column("channel_thread", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_conversations_channel_thread", ["channel", "channel_thread"], unique=False)
    op.create_table(
        "inbound_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_id", name="uq_inbound_receipt"),
    )
    op.create_index(
        "ix_inbound_receipts_conversation_id", "inbound_receipts", ["conversation_id"], unique=False
    )
    op.create_table(
        "outbound_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["chat_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        "ix_outbound_deliveries_conversation_id", "outbound_deliveries", ["conversation_id"], unique=False
    )
    op.create_index(
        "ix_outbound_deliveries_due", "outbound_deliveries", ["state", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_deliveries_due", table_name="outbound_deliveries")
    op.drop_index("ix_outbound_deliveries_conversation_id", table_name="outbound_deliveries")
    op.drop_table("outbound_deliveries")
    op.drop_index("ix_inbound_receipts_conversation_id", table_name="inbound_receipts")
    op.drop_table("inbound_receipts")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_channel_thread")
        batch_op.drop_column("channel_thread")
        batch_op.drop_column("channel")
