"""Production mode: PostgreSQL tracker store and app database, Redis lock store."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.stack import Stack

pytestmark = pytest.mark.stack
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A throw-away database on the machine's PostgreSQL, dropped afterwards."""
    name = f"voltmart_test_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Stack]:
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    stack = Stack(
        Path(tmp_path_factory.mktemp("production")),
        production=True,
        extra_env={"DATABASE_URL": url, "POSTGRES_DB": database},
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_conversation_is_stored_in_postgres_with_redis_locks(production_stack: Stack, database: str) -> None:
    assert redis.Redis(host="127.0.0.1", port=6379).ping()
    session = production_stack.new_session()
    assert production_stack.say(session, "hello")
    assert "order number" in " ".join(m["text"] for m in production_stack.say(session, "where is my order?"))
    engine = create_engine(f"postgresql://postgres@127.0.0.1:5432/{database}")
    with engine.connect() as connection:
        tracker_events = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": session}
        ).scalar()
        stored = connection.execute(
            text("SELECT sender, text FROM chat_messages WHERE conversation_id = :s ORDER BY id"),
            {"s": session},
        ).all()
    engine.dispose()
    assert tracker_events > 4  # Rasa's SQL tracker store wrote to PostgreSQL
    assert stored[0] == ("customer", "hello") and stored[2] == ("customer", "where is my order?")
    health = __import__("requests").get(f"{production_stack.url}/health", timeout=10).json()
    assert health["database"] == {"status": "ok", "dialect": "postgresql"}
    # Rasa's RedisLockStore keeps a pooled connection on the configured database 1.
    clients = redis.Redis(host="127.0.0.1", port=6379).client_list()
    assert any(client.get("db") == "1" for client in clients), clients
