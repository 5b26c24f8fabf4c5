"""Order cancellations: who cancelled an order in the chat, when and why

Revision ID: a7c4e2d91b30
Revises: a77ac4f1e0b2
Create Date: 2026-12-04 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7c4e2d91b30"
down_revision = "a77ac4f1e0b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("order_cancellations")
