"""Outbox mail is claimed before it is sent, so two senders never send the same mail.

Revision ID: b3d9e2a7c511
Revises: c0a51e19a7e1
Create Date: 2026-12-05 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3d9e2a7c511"
down_revision = "c0a51e19a7e1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
