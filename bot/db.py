"""One SQLAlchemy engine per database URL; SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, Inspector
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

Base = declarative_base()


@functools.lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # A pool, not SQLAlchemy 1.4's NullPool for files: opening a connection and setting its
        # pragmas for every unit of work was half the gateway's CPU per chat message.
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 15},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            # WAL lets the gateway read while the action server writes.
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a process crash; only a power cut can lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)


class OutdatedSchema(RuntimeError):
    """The database's tables do not match the models and no migration can fix that by itself."""

    @classmethod
    def of(cls, engine: Engine, problems: list[str]) -> OutdatedSchema:
        return cls(
            f"database {engine.url.render_as_string(hide_password=True)}: {'; '.join(problems)}; "
            "it was made by an older version. For the demo database run `make reset-db`; a "
            "production database needs a hand-written migration (see README, Schema migrations)."
        )


def schema_problems(inspector: Inspector, expected: dict[str, list[str]]) -> list[str]:
    """What the database lacks of ``expected`` (table -> column names)."""
    present_tables = set(inspector.get_table_names())
    problems = []
    for table, columns in expected.items():
        if table not in present_tables:
            problems.append(f"table {table} is missing")
            continue
        present = {column["name"] for column in inspector.get_columns(table)}
        missing = [column for column in columns if column not in present]
        if missing:
            problems.append(f"table {table} lacks column(s) {', '.join(missing)}")
    return problems


def insert_ignore(session: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


@functools.lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
