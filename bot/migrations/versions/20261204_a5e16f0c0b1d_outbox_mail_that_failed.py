"""Outbox mail that failed on its own (a bad address, a refused message) is marked, not retried for ever.

Revision ID: a5e16f0c0b1d
Revises: be38e669ed30
Create Date: 2026-12-04 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a5e16f0c0b1d"
down_revision = "be38e669ed30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failure")
        batch_op.drop_column("failed_at")
