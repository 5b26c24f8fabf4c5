"""The relay against a slow Rasa: a timed-out message is answered once, never sent twice.

Rasa here is a small local HTTP server that answers the REST webhook after a
delay and serves a tracker, so the client's timeouts and the recovery from the
tracker run over real sockets; the message log is a real SQLite database.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update

from bot.db import session_scope
from bot.messages.log import MessageLog
from bot.messages.models import ChatMessage
from bot.messages.relay import Relay
from bot.migrations import init_db
from bot.rasa.client import RasaClient, RasaTimedOut


class SlowRasa(BaseHTTPRequestHandler):
    delay = threading.Event()
    sent: list[str] = []  # noqa: RUF012 - shared by the handler threads on purpose
    tracker_events: list[dict] = []  # noqa: RUF012

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.split("?")[0].endswith("/tracker/events"):  # e.g. the resume after a handoff
            SlowRasa.sent.append(f"events: {[event['event'] for event in body]}")
            self._json({})
            return
        SlowRasa.sent.append(body["message"])
        SlowRasa.tracker_events = [
            {"event": "user", "text": body["message"]},
            {"event": "bot", "text": f"answer to {body['message']}", "data": {"buttons": None}},
        ]
        if SlowRasa.delay.is_set():
            threading.Event().wait(1.5)  # longer than the client's timeout
        self._json([{"text": f"answer to {body['message']}"}])

    def do_GET(self) -> None:
        self._json({"events": SlowRasa.tracker_events})

    def _json(self, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.wfile.write(data)


@pytest.fixture()
def rasa_url() -> Iterator[str]:
    SlowRasa.sent.clear()
    SlowRasa.tracker_events = []
    SlowRasa.delay.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def message_log_with_one_message(tmp_path, text: str) -> tuple[str, MessageLog, str]:
    """A real SQLite message log holding one customer message for the bot: (url, log, session)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    init_db(url)
    log = MessageLog(url)
    session = log.open_session()
    log.record(session, "customer", text, for_bot=True)
    return url, log, session


def test_a_timed_out_message_is_answered_from_the_tracker_not_sent_again(tmp_path, rasa_url: str) -> None:
    url, log, session = message_log_with_one_message(tmp_path, "where is my parcel")
    relay = Relay(log, RasaClient(rasa_url, timeout=0.5), node="test", stale_after=60)

    with pytest.raises(RasaTimedOut):
        relay.deliver(session)
    assert SlowRasa.sent == ["where is my parcel"]
    # The claim is kept while it may still be processed: no other attempt right away.
    assert relay.deliver(session) == []
    # Once the claim is stale, the next attempt asks the tracker instead of sending again.
    with session_scope(url) as db:
        db.execute(update(ChatMessage).values(relay_claimed_at=datetime.utcnow() - timedelta(minutes=5)))
    replies = relay.deliver(session)
    assert [r["text"] for r in replies] == ["answer to where is my parcel"]
    assert SlowRasa.sent == ["where is my parcel"]  # sent to Rasa exactly once
    assert [m["sender"] for m in log.after(session)] == ["customer", "bot"]


def test_a_message_rasa_never_saw_is_sent_on_the_next_attempt(tmp_path, rasa_url: str) -> None:
    url, log, session = message_log_with_one_message(tmp_path, "first")
    relay = Relay(log, RasaClient(rasa_url, timeout=0.5), node="test", stale_after=60)
    with pytest.raises(RasaTimedOut):
        relay.deliver(session)
    SlowRasa.tracker_events = []  # as if Rasa had dropped the request before processing it
    SlowRasa.delay.clear()
    with session_scope(url) as db:
        db.execute(update(ChatMessage).values(relay_claimed_at=datetime.utcnow() - timedelta(minutes=5)))
    replies = relay.deliver(session)
    assert [r["text"] for r in replies] == ["answer to first"]
    assert SlowRasa.sent == ["first", "first"]


def test_a_restarted_gateway_takes_back_what_it_was_delivering(tmp_path, rasa_url: str) -> None:
    _, log, session = message_log_with_one_message(tmp_path, "hello")
    assert log.claim_next(session, "gateway-1", stale_after=60) is not None  # then gateway-1 dies
    assert log.conversations_waiting(stale_after=60) == []  # not stale yet: nobody would take it
    assert log.release_claims_of("gateway-2") == 0  # another node's start leaves it alone
    assert log.release_claims_of("gateway-1") == 1
    SlowRasa.delay.clear()
    relay = Relay(log, RasaClient(rasa_url, timeout=5), node="gateway-1", stale_after=60)
    assert [r["text"] for r in relay.deliver(session)] == ["answer to hello"]


def test_the_background_sweep_leaves_a_new_message_to_the_request_that_stored_it(tmp_path) -> None:
    url, log, session = message_log_with_one_message(tmp_path, "hello")
    assert log.conversations_waiting(stale_after=60) == []  # the request is delivering it right now
    with session_scope(url) as db:
        db.execute(update(ChatMessage).values(created_at=datetime.utcnow() - timedelta(seconds=10)))
    assert log.conversations_waiting(stale_after=60) == [session]  # left behind: the sweep takes it


def test_a_tracker_left_paused_is_resumed_before_the_next_message(tmp_path, rasa_url: str) -> None:
    """A handoff resolved while Rasa was down: the claim says so, the relay resumes it first."""
    from bot.messages.models import Conversation

    SlowRasa.delay.clear()
    url, log, session = message_log_with_one_message(tmp_path, "hello")
    relay = Relay(log, RasaClient(rasa_url, timeout=5), node="test", stale_after=60)
    with session_scope(url) as db:
        db.execute(update(Conversation).where(Conversation.id == session).values(rasa_paused=True))
    replies = relay.deliver(session)
    assert [r["text"] for r in replies] == ["answer to hello"]
    assert SlowRasa.sent == ["events: ['resume']", "hello"]
    log.record(session, "customer", "thanks", for_bot=True)
    relay.deliver(session)
    assert SlowRasa.sent[2:] == ["thanks"]  # resumed once, not before every message

