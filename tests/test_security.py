"""Every finding of the black-box probe (issue 13), reproduced against the real stack.

The stack here is its own (not the shared one): these tests lock order numbers,
emails and client addresses on purpose, and run with the limits of settings.yml.
Each test is named after the row of the probe's table it keeps closed.
"""

from __future__ import annotations

import asyncore
import json
import re
import smtpd
import sqlite3
import subprocess
import threading
from collections.abc import Iterator

import pytest

from tests.support.stack import ROOT, VENV_BIN, Stack

pytestmark = pytest.mark.stack
ANNA, ANNAS_ORDER = "anna.kovacova@example.sk", "482913"
PETER, PETERS_ORDER = "peter.novak@example.com", "593011"


class MailCatcher(smtpd.SMTPServer):
    """A real SMTP server on loopback, so the outbox is really sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), None)
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self._loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
        self._loop.start()

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs) -> None:
        self.received.append(data if isinstance(data, bytes) else data.encode())


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    yield catcher
    catcher.close()


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory, mail: MailCatcher) -> Iterator[Stack]:
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_STARTTLS": "0"}
    running = Stack(tmp_path_factory.mktemp("security"), extra_env=smtp).start()
    try:
        yield running
    finally:
        running.stop()


# --- helpers -------------------------------------------------------------
def say(stack: Stack, session: str, text: str) -> str:
    """The bot's answer to one customer message, as one string."""
    return " | ".join(m["text"] for m in stack.say(session, text))


def app_db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.workdir / "var" / "app.db", timeout=15)


def tracker_db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.env["RASA_TRACKER_DB"], timeout=15)


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def fail_once(stack: Stack, email_first: bool, number: str, email: str) -> str:
    """One wrong pair, in a session of its own; returns the last answer."""
    session = stack.new_session()
    if email_first:
        say(stack, session, f"where is my order? my email is {email}")
        return say(stack, session, number)
    say(stack, session, f"where is my order {number}?")
    return say(stack, session, email)


# --- order verification can be guessed without limit ----------------------
def test_verification_failures_count_on_every_path_and_nothing_resets_them(secure_stack: Stack) -> None:
    stack = secure_stack
    # Email first, then a wrong number: the path that was not counted.
    session = stack.new_session()
    say(stack, session, f"where is my order? my email is {ANNA}")
    assert "couldn't find an order" in say(stack, session, "111111")
    # "stop" used to reset the counter to 0.
    say(stack, session, "stop")
    say(stack, session, "where is my order?")
    say(stack, session, "222222")
    assert "couldn't find an order" in say(stack, session, ANNA)
    # /restart, and a new session, used to start again. The third failure locks the email.
    say(stack, session, "/restart")
    assert "too many attempts" in fail_once(stack, False, "333333", ANNA)
    # Now the right pair, in a fresh session, shows nothing and offers a person instead.
    answer = fail_once(stack, False, ANNAS_ORDER, ANNA)
    assert "too many attempts" in answer and "try again in about" in answer
    assert "GLS482913SK" not in answer and "kettle" not in answer.lower()


def test_a_known_order_number_cannot_be_probed_with_guessed_emails(secure_stack: Stack) -> None:
    stack = secure_stack
    for n in range(3):
        fail_once(stack, n % 2 == 0, PETERS_ORDER, f"guess{n}@example.com")
    # The right pair in one message: refused as soon as the locked number is named.
    [locked] = stack.say(stack.new_session(), f"where is my order {PETERS_ORDER}? {PETER}")
    assert "too many attempts" in locked["text"] and "QLED" not in locked["text"]
    assert [b["title"] for b in locked["buttons"]] == ["Talk to a person", "No, thanks"]
    # A return on that order is refused too (no RMA on someone else's order).
    session = stack.new_session()
    say(stack, session, "I want to return something")
    assert "too many attempts" in say(stack, session, PETERS_ORDER)
    with app_db(stack) as db:
        assert db.execute("SELECT count(*) FROM returns").fetchone() == (0,)


# --- reset tokens in plain text -------------------------------------------
def test_the_outbox_never_holds_a_usable_reset_token(secure_stack: Stack, mail: MailCatcher) -> None:
    stack = secure_stack
    session = stack.new_session()
    say(stack, session, "I forgot my password")
    assert "If an account exists" in say(stack, session, "ivan.petrov@example.ru") or mail.received
    sent = [m for m in mail.received if b"ivan.petrov@example.ru" in m]
    assert sent, "the reset mail was not delivered over SMTP"
    token = re.search(rb"token=([\w-]+)", sent[-1]).group(1).decode()
    with app_db(stack) as db:
        rows = db.execute("SELECT subject, body, sent_at FROM outbox").fetchall()
        everything = json.dumps([list(r) for r in db.execute("SELECT * FROM password_reset_tokens")])
    assert rows and all(body == "" and sent_at for _, body, sent_at in rows)
    assert token not in json.dumps(rows) and token not in everything


# --- privacy: retention, export, erasure -----------------------------------
def test_one_customers_data_can_be_exported_and_erased_with_rasas_tracker(secure_stack: Stack) -> None:
    stack = secure_stack
    email = "kiss.eszter@example.hu"
    session = stack.new_session()
    say(stack, session, "where is my order 705528?")
    assert "705528" in say(stack, session, email)
    exported = json.loads(cli(stack, "privacy", "export", email).stdout)
    [conversation] = [c for c in exported["conversations"] if c["id"] == session]
    assert any(m["text"] == email for m in conversation["messages"])
    assert any(e.get("event") == "user" for e in conversation["rasa_tracker_events"])
    erased = json.loads(cli(stack, "privacy", "erase", email).stdout)
    assert erased["erased"]["conversations"] >= 1 and erased["erased"]["rasa_events"] > 0
    with tracker_db(stack) as db:
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (session,)).fetchone() == (0,)
    with app_db(stack) as db:
        assert db.execute(
            "SELECT count(*) FROM chat_messages WHERE conversation_id = ?", (session,)
        ).fetchone() == (0,)
    again = json.loads(cli(stack, "privacy", "export", email).stdout)
    assert again["conversations"] == []


def test_conversations_past_the_retention_period_are_purged(secure_stack: Stack) -> None:
    stack = secure_stack
    old, recent = stack.new_session(), stack.new_session()
    say(stack, old, "hello")
    say(stack, recent, "hello")
    with app_db(stack) as db:
        db.execute(
            "UPDATE conversations SET last_activity_at = datetime('now', '-100 days') WHERE id = ?", (old,)
        )
    purged = json.loads(cli(stack, "privacy", "purge").stdout)["purged"]
    assert purged["conversations"] >= 1 and purged["rasa_events"] > 0
    with app_db(stack) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM conversations")}
    with tracker_db(stack) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert old not in ids and old not in senders
    assert recent in ids and recent in senders
