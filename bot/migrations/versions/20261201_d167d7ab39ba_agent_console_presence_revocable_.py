"""Agent console: presence, revocable sessions, labels, transfers, unclaimed timeouts, email answers.

Queued handoffs from before this revision have no queued_at: the timeout falls back to created_at.

Revision ID: d167d7ab39ba
Revises: cc587f521162
Create Date: 2026-12-01 20:37:36.631218
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d167d7ab39ba"
down_revision = "cc587f521162"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "label", name="uq_conversation_label"),
    )
    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_labels_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_conversation_labels_label"), ["label"], unique=False)

    with op.batch_alter_table("agent_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="note", nullable=False))

    # Existing agents start offline and must set themselves online (logging in does).
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("presence", sa.String(length=8), server_default="offline", nullable=False)
        )
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("timed_out_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("email_reply_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("email_reply_at")
        batch_op.drop_column("timed_out_at")
        batch_op.drop_column("queued_at")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
        batch_op.drop_column("presence")

    with op.batch_alter_table("agent_notes", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_labels_label"))
        batch_op.drop_index(batch_op.f("ix_conversation_labels_conversation_id"))
    op.drop_table("conversation_labels")
