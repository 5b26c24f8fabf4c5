"""Two senders at once (the worker's minute and the console's immediate send) send each mail once.

A real SMTP server (aiosmtpd on loopback) that takes its time per mail, so the two batches overlap;
SQLite and PostgreSQL, since the claim is a conditional UPDATE each database must honour.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text

from bot.db import session_scope
from bot.migrations import init_db
from bot.settings import SmtpSettings
from bot.shop.mailer import deliver_outbox, seal
from bot.shop.models import OutboxEmail
from tests.support.stack import free_port

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = b"a test secret of enough length.."


class SlowKeeper:
    def __init__(self) -> None:
        self.to: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        await asyncio.sleep(0.2)  # a mail server under load: the other sender runs meanwhile
        self.to.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@pytest.fixture()
def smtp() -> Iterator[tuple[SmtpSettings, SlowKeeper]]:
    keeper = SlowKeeper()
    port = free_port()
    controller = Controller(keeper, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSettings(host="127.0.0.1", port=port, starttls=False), keeper
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        init_db(url)
        yield url
        return
    name = f"outbox_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
    try:
        init_db(url)
        yield url
    finally:
        from bot.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def queue(url: str, n: int) -> list[str]:
    addresses = [f"customer{i}@example.com" for i in range(n)]
    with session_scope(url) as db:
        for address in addresses:
            db.add(OutboxEmail(to_address=address, subject="Your return", body=seal(SECRET, "the label")))
    return addresses


def test_two_senders_at_once_send_each_mail_once(url: str, smtp: tuple[SmtpSettings, SlowKeeper]) -> None:
    settings, server = smtp
    addresses = queue(url, 8)
    sent: list[int] = []
    start = threading.Barrier(2)

    def sender() -> None:
        start.wait()
        sent.append(deliver_outbox(url, settings, SECRET))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(server.to) == Counter(addresses)  # every mail, none twice
    assert sum(sent) == len(addresses)
    with session_scope(url) as db:
        rows = db.scalars(select(OutboxEmail)).all()
        assert all(r.sent_at is not None and r.body == "" and r.claimed_until is None for r in rows)


def test_a_claim_keeps_others_off_until_it_lapses(url: str, smtp: tuple[SmtpSettings, SlowKeeper]) -> None:
    """A sender killed after claiming: its mail waits for the claim to lapse, then goes out."""
    settings, server = smtp
    [address] = queue(url, 1)
    with session_scope(url) as db:
        db.scalars(select(OutboxEmail)).one().claimed_until = datetime.utcnow() + timedelta(minutes=5)
    assert deliver_outbox(url, settings, SECRET) == 0
    assert server.to == []
    with session_scope(url) as db:
        db.scalars(select(OutboxEmail)).one().claimed_until = datetime.utcnow() - timedelta(seconds=1)
    assert deliver_outbox(url, settings, SECRET) == 1
    assert server.to == [address]


def test_mail_left_unsent_by_a_dead_server_is_free_at_once(url: str) -> None:
    """The server can't be reached: nothing is sent, and the next run need not wait for a claim."""
    queue(url, 2)
    assert deliver_outbox(url, SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False), SECRET) == 0
    with session_scope(url) as db:
        rows = db.scalars(select(OutboxEmail)).all()
        assert [r.sent_at for r in rows] == [None, None]
        assert [r.claimed_until for r in rows] == [None, None]
