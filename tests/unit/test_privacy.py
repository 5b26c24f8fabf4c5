"""Export, erasure and retention over the app database and Rasa's real SQL tracker store,
on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from bot.db import session_scope
from bot.handoff.agents import upsert_agent
from bot.handoff.limits import HandoffLimiter
from bot.handoff.models import Agent, AgentNote, Handoff
from bot.handoff.service import HandoffService
from bot.messages.log import MessageLog
from bot.messages.models import ChatMessage, Conversation
from bot.migrations import init_db
from bot.privacy import PrivacyService, RasaTrackerStore, conversation_ref
from bot.settings import HandoffSettings, PrivacySettings
from bot.shop.models import OutboxEmail, VerificationAttempt
from bot.shop.seed import seed_demo_data
from bot.shop.store import SqlShopStore
from tests.unit.test_actions import run_async

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ANNA, PETER = "anna.kovacova@example.sk", "peter.novak@example.com"
RETENTION = PrivacySettings(retention_days=90)


@dataclass
class Backend:
    app_url: str
    tracker: object  # rasa.core.tracker_store.SQLTrackerStore, the one Rasa itself uses
    tracker_url: str


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    if request.param == "sqlite":
        db = tmp_path / "rasa_tracker.db"
        yield Backend(
            f"sqlite:///{tmp_path / 'app.db'}",
            SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)),
            f"sqlite:///{db}",
        )
        return
    # A database of its own (Rasa creates it from the login database), dropped afterwards.
    name = f"privacy_{secrets.token_hex(4)}"
    store = SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host="127.0.0.1",
        port=5432,
        db=name,
        username="postgres",
        login_db=POSTGRES.rsplit("/", 1)[1],
    )
    url = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
    try:
        yield Backend(url, store, url)
    finally:
        store.engine.dispose()
        from bot.db import get_engine

        get_engine(url).dispose()
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def save_tracker(backend: Backend, sender: str, texts: list[str], at: float | None = None) -> None:
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    at = at or time.time()
    events = []
    for n, said in enumerate(texts):
        events += [UserUttered(said, timestamp=at + n), BotUttered("ok", timestamp=at + n + 0.5)]
    run_async(backend.tracker.save(DialogueStateTracker.from_events(sender, events)))


def conversation(log: MessageLog, texts: list[str]) -> str:
    sender = log.open_session()
    for said in texts:
        log.record(sender, "customer", said)
        log.record(sender, "bot", "ok")
    return sender


@pytest.fixture()
def world(backend: Backend) -> dict:
    """Anna: a verified conversation with a handoff and a note, one where she left her email,
    one where she only typed it, reset mail. Peter: a conversation that must survive."""
    init_db(backend.app_url)
    seed_demo_data(backend.app_url)
    log = MessageLog(backend.app_url)
    handoff = HandoffService(backend.app_url, HandoffSettings(hours="always"), log)
    verified = conversation(log, ["where is my order 482913", ANNA])
    handoff.link_customer(verified, ANNA)
    start = handoff.start(verified, "customer_request", "en", {"transcript": [{"text": "kettle leaks"}]})
    upsert_agent(backend.app_url, "eva", "correct horse battery")
    with session_scope(backend.app_url) as session:
        agent_id = session.scalar(select(Agent.id))
    handoff.add_note(start.handoff_id, agent_id, "Anna called about the kettle")
    left_email = conversation(log, ["I want a person"])
    offline = handoff.start(left_email, "customer_request", "en", {})
    with session_scope(backend.app_url) as session:
        session.get(Handoff, offline.handoff_id).status = "ticket"
    handoff.leave_contact(left_email, ANNA)
    typed = conversation(log, [f"reset the password of {ANNA.upper()} please"])
    peters = conversation(log, ["where is 593011", PETER])
    handoff.link_customer(peters, PETER)
    HandoffLimiter(backend.app_url, b"k", 5, 5).allow(verified, "198.51.100.1")
    SqlShopStore(backend.app_url, b"k").request_password_reset(ANNA, verified)
    for sender in (verified, left_email, typed, peters):
        save_tracker(backend, sender, ["hello", "my card is [card number removed]"])
    return {"anna": [verified, left_email, typed], "peter": peters}


def privacy(backend: Backend) -> PrivacyService:
    return PrivacyService(
        backend.app_url, RasaTrackerStore(backend.tracker_url), RETENTION, timedelta(minutes=60)
    )


def tracker_senders(backend: Backend) -> set[str]:
    engine = create_engine(backend.tracker_url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT DISTINCT sender_id FROM events")))
    finally:
        engine.dispose()


def test_export_has_every_conversation_of_the_email_and_nothing_else(backend: Backend, world: dict) -> None:
    data = privacy(backend).export(ANNA.upper())
    assert sorted(c["ref"] for c in data["conversations"]) == sorted(map(conversation_ref, world["anna"]))
    verified = next(c for c in data["conversations"] if c["ref"] == conversation_ref(world["anna"][0]))
    assert [m["text"] for m in verified["messages"] if m["sender"] == "customer"][1] == ANNA
    assert verified["handoffs"][0]["notes"][0]["text"] == "Anna called about the kettle"
    assert verified["handoffs"][0]["context"]["transcript"][0]["text"] == "kettle leaks"
    assert [e["event"] for e in verified["rasa_tracker_events"]][:2] == ["user", "bot"]
    assert data["outbox"][0]["subject"] == "Reset your VoltMart password" and "body" not in data["outbox"][0]
    assert data["shop"]["orders"][0]["number"] == "482913"
    assert PETER not in str(data)


def test_erase_removes_the_app_rows_and_the_rasa_trackers(backend: Backend, world: dict) -> None:
    removed = privacy(backend).erase(ANNA)
    assert removed.counts["conversations"] == 3 and removed.counts["agent_notes"] == 1
    assert removed.counts["outbox"] == 1 and removed.counts["rasa_events"] == 3 * 4
    assert tracker_senders(backend) == {world["peter"]}
    with session_scope(backend.app_url) as session:
        assert set(session.scalars(select(Conversation.id))) == {world["peter"]}
        assert set(session.scalars(select(ChatMessage.conversation_id))) == {world["peter"]}
        assert session.scalar(select(func.count()).select_from(Handoff)) == 0
        assert session.scalar(select(func.count()).select_from(AgentNote)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    assert privacy(backend).export(ANNA)["conversations"] == []
    assert privacy(backend).erase(ANNA).total() == 0  # idempotent


def test_purge_erases_what_is_older_than_the_retention_period(backend: Backend, world: dict) -> None:
    old = datetime.utcnow() - timedelta(days=RETENTION.retention_days, hours=1)
    stale = world["anna"][0]
    with session_scope(backend.app_url) as session:
        session.get(Conversation, stale).last_activity_at = old
        session.add(
            VerificationAttempt(email_hash="x" * 64, created_at=datetime.utcnow() - timedelta(hours=2))
        )
        for mail in session.scalars(select(OutboxEmail)):
            mail.sent_at = old
    # A tracker with no app conversation at all, idle as long, goes too.
    orphan = secrets.token_urlsafe(24)
    save_tracker(backend, orphan, ["hi"], at=old.timestamp() - 3600)
    removed = privacy(backend).purge_expired()
    assert removed.counts["conversations"] == 1 and removed.counts["agent_notes"] == 1
    assert removed.counts["outbox"] == 1 and removed.counts["verification_attempts"] == 1
    assert tracker_senders(backend) == {*world["anna"][1:], world["peter"]}
    with session_scope(backend.app_url) as session:
        assert stale not in set(session.scalars(select(Conversation.id)))
        assert session.scalar(select(func.count()).where(ChatMessage.conversation_id == stale)) == 0
    assert privacy(backend).purge_expired().total() == 0  # nothing else is old enough


def test_a_tracker_store_rasa_never_created_is_not_an_error(tmp_path: Path) -> None:
    store = RasaTrackerStore(f"sqlite:///{tmp_path / 'never.db'}")
    assert store.delete(["x"]) == 0 and store.export(["x"]) == {} and store.idle_senders(time.time()) == []
    assert not (tmp_path / "never.db").exists()


def test_erase_and_purge_cover_the_analytics_events(backend: Backend, world: dict) -> None:
    from bot.analytics.events import NO_FAQ_MATCH, EventLog
    from bot.analytics.models import AnalyticsEvent

    events = EventLog(backend.app_url)
    for cid in [*world["anna"], world["peter"]]:
        events.record(NO_FAQ_MATCH, cid, language="en", text="do you rent carpet cleaners")
    removed = privacy(backend).erase(ANNA)
    assert removed.counts["analytics_events"] == len(world["anna"])
    with session_scope(backend.app_url) as session:
        assert set(session.scalars(select(AnalyticsEvent.conversation_id))) == {world["peter"]}
        session.get(Conversation, world["peter"]).last_activity_at = datetime.utcnow() - timedelta(days=91)
    assert privacy(backend).purge_expired().counts["analytics_events"] == 1
