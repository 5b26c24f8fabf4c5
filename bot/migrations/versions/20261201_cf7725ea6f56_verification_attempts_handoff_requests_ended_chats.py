"""Verification attempts and handoff requests (counted per hashed key for the limits); ended chats.

Revision ID: cf7725ea6f56
Revises: 1d280506feb5
Create Date: 2026-12-01 20:38:39
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cf7725ea6f56"
down_revision = "1d280506feb5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_requests_client_hash"), ["client_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_handoff_requests_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_handoff_requests_created_at"), ["created_at"], unique=False)

    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_hash", sa.String(length=64), nullable=True),
        sa.Column("email_hash", sa.String(length=64), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_attempts_client_hash"), ["client_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_verification_attempts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_attempts_email_hash"), ["email_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_attempts_order_hash"), ["order_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_verification_attempts_session_hash"), ["session_hash"], unique=False
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("ended_at")

    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_attempts_session_hash"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_order_hash"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_email_hash"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_created_at"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_client_hash"))

    op.drop_table("verification_attempts")
    with op.batch_alter_table("handoff_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_requests_created_at"))
        batch_op.drop_index(batch_op.f("ix_handoff_requests_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_handoff_requests_client_hash"))

    op.drop_table("handoff_requests")
