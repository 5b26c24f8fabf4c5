"""Alembic migrations on real SQLite and PostgreSQL: old databases upgrade, models and revisions agree."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from bot.db import Base, session_scope
from bot.migrations import (
    BASELINE,
    current_revisions,
    head_revisions,
    init_db,
    load_models,
    pending_model_changes,
)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

load_models()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a file for SQLite, a private throw-away database on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    name = f"test_mig_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _revisions(url: str) -> tuple[str, ...]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return current_revisions(connection)
    finally:
        engine.dispose()


def _made_by_previous_version(url: str) -> None:
    """The schema as 6c5a0fc's create_all made it (frozen DDL), with a conversation in it."""
    dialect = make_url(url).get_backend_name()
    ddl = (FIXTURES / f"schema_6c5a0fc.{dialect}.sql").read_text()
    statements = "\n".join(line for line in ddl.splitlines() if not line.startswith("--")).split(";")
    engine = create_engine(url, future=True)
    created = datetime(2026, 11, 30, 10, 0)
    with engine.begin() as connection:
        for statement in filter(str.strip, statements):
            connection.exec_driver_sql(statement)
        connection.execute(
            text(
                "INSERT INTO conversations (id, language, mode, created_at, last_activity_at, rasa_paused) "
                "VALUES ('old-session', 'sk', 'handoff', :at, :at, :paused)"
            ),
            {"at": created, "paused": True},
        )
        connection.execute(
            text(
                "INSERT INTO chat_messages (conversation_id, sender, text, client_id, created_at) "
                "VALUES ('old-session', 'customer', 'Kde je moja objednávka?', 'c-1', :at), "
                "('old-session', 'bot', 'Pošlite mi číslo objednávky.', NULL, :at)"
            ),
            {"at": created},
        )
        connection.execute(
            text(
                "INSERT INTO agents (username, display_name, password_hash, created_at) "
                "VALUES ('alice', 'Alice', 'scrypt:hash', :at)"
            ),
            {"at": created},
        )
    engine.dispose()
    assert "alembic_version" not in inspect(create_engine(url)).get_table_names()


def test_empty_database_is_upgraded_to_head(empty_database: str) -> None:
    init_db(empty_database)
    assert _revisions(empty_database) == head_revisions()
    tables = set(inspect(create_engine(empty_database)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_database_of_the_previous_version_is_stamped_and_upgraded_with_its_rows(empty_database: str) -> None:
    from bot.messages.models import ChatMessage, Conversation

    _made_by_previous_version(empty_database)
    init_db(empty_database)
    assert _revisions(empty_database) == head_revisions()
    with session_scope(empty_database) as session:
        conversation = session.get(Conversation, "old-session")
        assert (conversation.language, conversation.mode, conversation.rasa_paused) == ("sk", "handoff", True)
        texts = session.execute(select(ChatMessage.text).order_by(ChatMessage.id)).scalars().all()
        assert texts == ["Kde je moja objednávka?", "Pošlite mi číslo objednávky."]
        session.add(
            ChatMessage(conversation_id="old-session", sender="agent", text="Pozriem sa.", agent_name="Alice")
        )
    with session_scope(empty_database) as session:
        assert (
            session.execute(select(ChatMessage).where(ChatMessage.sender == "agent")).scalar_one().text
            == "Pozriem sa."
        )
    init_db(empty_database)  # a second start changes nothing
    assert _revisions(empty_database) == head_revisions()


def test_models_and_head_revision_agree(empty_database: str) -> None:
    """A model change without a revision fails here: run `python -m bot db revision -m ...`."""
    assert len(head_revisions()) == 1, "several heads: run `python -m bot db merge`"
    assert pending_model_changes(empty_database) == []


def test_a_model_change_without_a_revision_is_detected() -> None:
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["conversations"].append_column(Column("nickname", String(40), nullable=True))
    changes = pending_model_changes(metadata=changed)
    assert [(change[0], change[2], change[3].name) for change in changes] == [
        ("add_column", "conversations", "nickname")
    ]


def test_processes_starting_together_migrate_once(empty_database: str) -> None:
    """Two gateways and an action server start at once: the lock lets one migrate, the rest wait."""
    _made_by_previous_version(empty_database)  # stamping and upgrading is the longest critical section
    starters = 4
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            init_db(empty_database)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _revisions(empty_database) == head_revisions()
    engine = create_engine(empty_database, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM chat_messages")).scalar_one() == 2
    engine.dispose()


def test_baseline_is_the_schema_of_the_previous_version(empty_database: str) -> None:
    """Revision 0001 builds what 6c5a0fc's create_all built, table by table and column by column."""
    from bot.migrations import schema_at

    _made_by_previous_version(empty_database)
    inspector = inspect(create_engine(empty_database))
    previous = {
        table: [c["name"] for c in inspector.get_columns(table)] for table in inspector.get_table_names()
    }
    assert {table: sorted(columns) for table, columns in schema_at(BASELINE).items()} == {
        table: sorted(columns) for table, columns in previous.items()
    }
