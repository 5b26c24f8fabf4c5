"""Agent roles (agent | supervisor) and disabling; the analytics events table.

Existing agents become plain agents; make a supervisor with
`python -m bot agents add NAME --role supervisor`.

Revision ID: cc587f521162
Revises: cf7725ea6f56
Create Date: 2026-12-01 20:30:53.866485
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cc587f521162"
down_revision = "cf7725ea6f56"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("channel", sa.String(length=16), server_default="web", nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("addressed_entry", sa.String(length=64), nullable=True),
        sa.Column("addressed_at", sa.DateTime(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "message_id", name="uq_event_message"),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_events_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_analytics_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_analytics_kind_time", ["kind", "created_at"], unique=False)

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=12), server_default="agent", nullable=False))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("role")

    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_kind_time")
        batch_op.drop_index(batch_op.f("ix_analytics_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_analytics_events_conversation_id"))

    op.drop_table("analytics_events")
