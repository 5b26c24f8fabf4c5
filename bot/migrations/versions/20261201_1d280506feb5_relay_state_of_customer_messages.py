"""Relay state of customer messages (the gateway delivers each stored message to Rasa exactly once).

Messages stored before this revision get relay_state "none": they were handled by the old code path
and must not be delivered again.

Revision ID: 1d280506feb5
Revises: 0001
Create Date: 2026-12-01 20:19:26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1d280506feb5"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relay_state", sa.String(length=10), server_default="none", nullable=False)
        )
        batch_op.add_column(sa.Column("relay_node", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("relay_claimed_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_chat_messages_relay", ["relay_state", "conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_relay")
        batch_op.drop_column("relay_claimed_at")
        batch_op.drop_column("relay_node")
        batch_op.drop_column("relay_state")
