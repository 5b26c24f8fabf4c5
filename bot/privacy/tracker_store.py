"""Rasa's SQL tracker store, seen from outside Rasa: table ``events``, one row per event,
``sender_id`` = our conversation id. Works on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine

_metadata = MetaData()
# The columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent that we read.
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)
CHUNK = 500


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class RasaTrackerStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def _connect(self) -> Engine | None:
        """None when Rasa never created its store (e.g. it has not run yet): nothing to erase."""
        if self.url.startswith("sqlite:///") and not Path(self.url.removeprefix("sqlite:///")).exists():
            return None
        if self._engine is None:
            self._engine = create_engine(self.url, future=True, pool_pre_ping=True)
        return self._engine if inspect(self._engine).has_table("events") else None

    def export(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        engine = self._connect()
        found: dict[str, list[dict[str, Any]]] = {}
        if engine is None:
            return found
        with engine.connect() as connection:
            for batch in chunks(sender_ids):
                rows = connection.execute(
                    select(events.c.sender_id, events.c.data)
                    .where(events.c.sender_id.in_(batch))
                    .order_by(events.c.id)
                )
                for sender_id, data in rows:
                    found.setdefault(sender_id, []).append(json.loads(data or "{}"))
        return found

    def delete(self, sender_ids: Iterable[str]) -> int:
        engine = self._connect()
        if engine is None:
            return 0
        removed = 0
        with engine.begin() as connection:
            for batch in chunks(sender_ids):
                removed += connection.execute(delete(events).where(events.c.sender_id.in_(batch))).rowcount
        return removed

    def idle_senders(self, before_timestamp: float) -> list[str]:
        """Conversations whose last event is older than the timestamp."""
        engine = self._connect()
        if engine is None:
            return []
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(events.c.sender_id)
                    .group_by(events.c.sender_id)
                    .having(func.max(events.c.timestamp) < before_timestamp)
                )
            )
