"""Console: each customer message's language (and conversations' language from them), the agent's
console locale, dismissed gap groups.

Existing customer messages get their language detected here, and every conversation with any
takes the language most of them are in (until now all conversations said "en").

Revision ID: c0a51e19a7e1
Revises: a7c4e2d91b30
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "c0a51e19a7e1"
down_revision = "a7c4e2d91b30"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dismissed_at", sa.DateTime(), nullable=True))
    _backfill_languages(op.get_bind())


def _backfill_languages(connection: sa.engine.Connection) -> None:
    from bot.messages.language import message_language

    messages = sa.table(
        "chat_messages",
        sa.column("id", sa.Integer),
        sa.column("conversation_id", sa.String),
        sa.column("sender", sa.String),
        sa.column("text", sa.Text),
        sa.column("language", sa.String),
    )
    conversations = sa.table("conversations", sa.column("id", sa.String), sa.column("language", sa.String))
    votes: dict[str, Counter] = {}
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.conversation_id, messages.c.text)
            .where(messages.c.sender == "customer", messages.c.id > last_id)
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for message_id, conversation_id, text in rows:
            language = message_language(text or "")
            if language:
                connection.execute(
                    messages.update().where(messages.c.id == message_id).values(language=language)
                )
                # Counter keeps first-seen order; a later message wins a tie, as in the running code.
                tally = votes.setdefault(conversation_id, Counter())
                tally[language] += 1
                tally[language] = tally.pop(language)
        last_id = rows[-1][0]
    for conversation_id, tally in votes.items():
        best = max(tally.values())
        language = [lang for lang, count in tally.items() if count == best][-1]
        connection.execute(
            conversations.update().where(conversations.c.id == conversation_id).values(language=language)
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_column("dismissed_at")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_column("language")
