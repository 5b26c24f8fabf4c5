"""Every finding of the second black-box probe (issue 16), against the real gateway app.

The app is the gateway's own (``create_app`` + Socket.IO) on a real SQLite database, with
Flask's and Flask-SocketIO's test clients; the CLI runs as a real subprocess on the same
database; mail goes to a real SMTP server on loopback. The Rasa token test runs against the
real stack. Each test is named after the probe's row or "also seen" item it keeps closed.
"""

from __future__ import annotations

import asyncore
import json
import os
import shutil
import smtpd
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Handoff
from bot.kb.editor import EditRejected, LanguageDraft, add_entry, add_phrasings
from bot.messages.models import Conversation
from bot.privacy import conversation_ref
from bot.rasa_server.token import MissingToken, with_token_from_environment
from bot.settings import SmtpSettings
from bot.shop.mailer import deliver_outbox, seal
from bot.shop.models import OutboxEmail
from bot.web import create_app
from bot.web.console.auth import revoke_sessions
from bot.web.live_connections import EXTENSION, SWEEP_SECONDS
from bot.web.realtime import create_socketio
from bot.web.reports.views import LONG_RANGE_DAYS
from tests.conftest import agent_id_of, build_test_services, service_env
from tests.support.stack import ROOT, VENV_BIN, Stack, free_port
from tests.test_agent_console import FORM_TOKEN, PASSWORD, json_post, login, token_of


# --- the app -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security_probe")


def extra_env(workdir: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": "probe-secret-key-" + "x" * 16,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",  # Rasa is "down": nothing here needs it
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "RASA_TRACKER_DB": str(workdir / "rasa_tracker.db"),
    }


@pytest.fixture(scope="module")
def app(workdir: Path) -> Iterator[Flask]:
    services = build_test_services(workdir, **extra_env(workdir))
    application = create_app(services)
    application.extensions["socketio"] = create_socketio(application, services)
    agents.upsert_agent(services.database_url, "sue", PASSWORD, "Sue", role="supervisor")
    yield application
    services.close()


@pytest.fixture()
def url(app: Flask) -> str:
    return app.extensions["services"].database_url


@pytest.fixture()
def sue(app: Flask) -> FlaskClient:
    return signed_in(app, "sue")


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username)[0].status_code == 303
    return client


def new_agent(app: Flask, name: str) -> tuple[int, FlaskClient]:
    url = app.extensions["services"].database_url
    agents.upsert_agent(url, name, PASSWORD, name.capitalize())
    return agent_id_of(url, name), signed_in(app, name)


def form_token(client: FlaskClient, page: str = "/agent/privacy") -> str:
    return FORM_TOKEN.search(client.get(page).get_data(as_text=True)).group(1)


def chat(app: Flask, *customer_lines: str) -> str:
    """A widget conversation in which the customer wrote these lines; returns its session id."""
    log = app.extensions["services"].messages
    session = log.open_session()
    for line in customer_lines:
        log.record(session, "customer", line)
    return session


def claimed(app: Flask, client: FlaskClient, agent_id: int) -> int:
    service = app.extensions["handoff"]
    conversation = chat(app, "I want to talk to a person")
    agents.set_presence(service.url, agent_id, "online")
    start = service.start(conversation, "customer_request", "en", {"transcript": [], "slots": {}})
    assert json_post(client, f"/agent/handoffs/{start.handoff_id}/claim", token_of(client)).status_code == 200
    return start.handoff_id


def socket_of(app: Flask, client: FlaskClient | None = None, **auth: object):
    return app.extensions["socketio"].test_client(app, flask_test_client=client, auth=auth)


# --- rows of the probe's table ---------------------------------------------------------------
def test_export_matches_the_exact_address_only(app: Flask, sue: FlaskClient) -> None:
    tag = os.urandom(3).hex()
    px, zpx = f"px{tag}@example.com", f"zpx{tag}@example.com"
    mine = chat(app, f"my email is {px.upper()}, thanks")
    verified = chat(app, "where is my order?")
    app.extensions["handoff"].link_customer(verified, px)
    others = [
        chat(app, f"my email is {zpx}"),  # px@ is a substring of it
        chat(app, f"write to px{tag}@example.com.evil.org"),  # a longer domain
        chat(app, f"a_b{tag}@example.com is wrong, I am aXb{tag}@example.com"),  # "_" is a LIKE wildcard
    ]
    app.extensions["handoff"].link_customer(chat(app, "hi"), zpx)
    exported = sue.post("/agent/privacy/export", data={"email": px, "csrf_token": form_token(sue)})
    assert exported.status_code == 200
    refs = {c["ref"] for c in json.loads(exported.get_data(as_text=True))["conversations"]}
    assert refs == {conversation_ref(mine), conversation_ref(verified)}
    wildcard = sue.post("/agent/privacy/export", data={"email": f"a_b{tag}@example.com", "csrf_token": form_token(sue)})
    assert {c["ref"] for c in wildcard.get_json()["conversations"]} == {conversation_ref(others[2])}
    sideways = sue.post("/agent/privacy/export", data={"email": f"aXb{tag}@example.com", "csrf_token": form_token(sue)})
    assert {c["ref"] for c in sideways.get_json()["conversations"]} == {conversation_ref(others[2])}
    percent = sue.post("/agent/privacy/export", data={"email": f"%{tag}@example.com", "csrf_token": form_token(sue)})
    assert percent.get_json()["conversations"] == []


def test_export_carries_no_live_session_id(app: Flask, sue: FlaskClient) -> None:
    email = f"ids{os.urandom(3).hex()}@example.com"
    session = chat(app, f"it's {email}")
    body = sue.post("/agent/privacy/export", data={"email": email, "csrf_token": form_token(sue)}).get_data(as_text=True)
    assert conversation_ref(session) in body and session not in body


def test_erase_matches_the_exact_address_and_lists_each_conversation_first(app: Flask, sue: FlaskClient) -> None:
    tag = os.urandom(3).hex()
    px, zpx = f"px{tag}@example.com", f"zpx{tag}@example.com"
    mine, contact = chat(app, f"I am {px}"), chat(app, "a person please")
    service = app.extensions["handoff"]
    handoff = service.start(contact, "customer_request", "en", {})
    with session_scope(service.url) as db:
        db.get(Handoff, handoff.handoff_id).status = "ticket"
    service.leave_contact(contact, px.upper())
    theirs = chat(app, f"I am {zpx}")
    token = form_token(sue)
    listed = sue.post("/agent/privacy/erase", data={"email": px, "confirm": px, "csrf_token": token})
    page = listed.get_data(as_text=True)
    assert listed.status_code == 200 and page.count('data-testid="erase-conversation"') == 2
    assert conversation_ref(mine) in page and conversation_ref(contact) in page and conversation_ref(theirs) not in page
    assert "contact email" in page and "typed by the customer" in page
    assert app.extensions["services"].messages.session_exists(mine)  # listed, not erased yet
    late = chat(app, f"me again: {px}")  # found after the listing: not erased unseen
    erased = sue.post(
        "/agent/privacy/erase",
        data={
            "email": px,
            "confirm": px,
            "erase_listed": "1",
            "ref": [conversation_ref(mine), conversation_ref(contact)],
            "csrf_token": token,
        },
    )
    assert erased.status_code == 303
    exists = app.extensions["services"].messages.session_exists
    assert not exists(mine) and not exists(contact)
    assert exists(theirs) and exists(late)


def test_the_erase_command_lists_and_asks_before_it_erases(app: Flask, workdir: Path) -> None:
    tag = os.urandom(3).hex()
    px, zpx = f"px{tag}@example.com", f"zpx{tag}@example.com"
    mine, theirs = chat(app, f"mail me at {px}"), chat(app, f"mail me at {zpx}")
    env = {**os.environ, **service_env(workdir, **extra_env(workdir))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VENV_BIN / "python"), "-m", "bot", "privacy", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )

    refused = run("erase", px)  # no terminal to ask in, no --yes: nothing happens
    assert refused.returncode == 2 and "1 conversation(s) found" in refused.stderr
    assert conversation_ref(mine) in refused.stderr and conversation_ref(theirs) not in refused.stderr
    assert app.extensions["services"].messages.session_exists(mine)
    done = run("erase", px, "--yes")
    assert done.returncode == 0 and conversation_ref(mine) in done.stderr
    assert json.loads(done.stdout)["conversations"] == [conversation_ref(mine)]
    exists = app.extensions["services"].messages.session_exists
    assert not exists(mine) and exists(theirs)


def test_disable_revokes_and_enable_does_not_revive(app: Flask, sue: FlaskClient) -> None:
    agent_id, dana = new_agent(app, "dana")
    copy = app.test_client()
    copy.set_cookie("session", dana.get_cookie("session").value)
    live = socket_of(app, copy, role="agent")
    assert live.is_connected() and copy.get("/agent/queue.json").status_code == 200
    token = form_token(sue, "/agent/team")
    assert sue.post(f"/agent/team/{agent_id}/disable", data={"disabled": "1", "csrf_token": token}).status_code == 303
    assert copy.get("/agent/queue.json").status_code == 401
    assert not live.is_connected()  # the open console stops receiving pushes at once
    assert sue.post(f"/agent/team/{agent_id}/disable", data={"disabled": "0", "csrf_token": token}).status_code == 303
    assert copy.get("/agent/queue.json").status_code == 401  # the old cookie stays dead
    assert dana.get("/agent/queue.json").status_code == 401
    assert signed_in(app, "dana").get("/agent/queue.json").status_code == 200  # a new login works


def test_transfers_go_only_to_enabled_agents(app: Flask, url: str) -> None:
    erin_id, erin = new_agent(app, "erin")
    frank_id, _ = new_agent(app, "frank")
    handoff_id = claimed(app, erin, erin_id)
    agents.set_disabled(url, frank_id, True)
    refused = json_post(erin, f"/agent/handoffs/{handoff_id}/transfer", token_of(erin), {"to": str(frank_id)})
    assert 400 <= refused.status_code < 500
    with session_scope(url) as db:
        handoff = db.get(Handoff, handoff_id)
        assert (handoff.status, handoff.agent_id) == ("assigned", erin_id)
    agents.set_disabled(url, frank_id, False)
    moved = json_post(erin, f"/agent/handoffs/{handoff_id}/transfer", token_of(erin), {"to": str(frank_id)})
    assert moved.status_code == 200


def test_disabling_an_agent_returns_their_conversations_to_the_queue(app: Flask, sue: FlaskClient, url: str) -> None:
    gina_id, gina = new_agent(app, "gina")
    handoff_id = claimed(app, gina, gina_id)
    watcher = socket_of(app, sue, role="agent")
    watcher.get_received()
    token = form_token(sue, "/agent/team")
    assert sue.post(f"/agent/team/{gina_id}/disable", data={"disabled": "1", "csrf_token": token}).status_code == 303
    with session_scope(url) as db:
        handoff = db.get(Handoff, handoff_id)
        assert (handoff.status, handoff.agent_id, handoff.claimed_at) == ("queued", None, None)
    assert any(e["name"] == "queue" for e in watcher.get_received())  # consoles re-read the queue
    waiting = sue.get("/agent/queue.json").get_json()["waiting"]
    assert handoff_id in [row.get("id", row.get("handoff_id")) for row in waiting]


SUPERVISOR_PAGES = (
    "/agent/gaps",
    "/agent/gaps.json",
    "/agent/reports",
    "/agent/reports.json",
    "/agent/reports.csv",
    "/agent/team",
    "/agent/privacy",
)


def test_every_supervisor_response_with_personal_data_is_not_stored(app: Flask, sue: FlaskClient) -> None:
    kb = app.extensions["services"].knowledge_base  # noqa: F841 - the gaps page needs the FAQ loaded
    for page in SUPERVISOR_PAGES:
        response = sue.get(page)
        assert response.status_code == 200, page
        assert response.headers.get("Cache-Control") == "no-store", page
    email = f"cache{os.urandom(3).hex()}@example.com"
    token = form_token(sue)
    for post, data in (
        ("/agent/privacy/export", {"email": email}),
        ("/agent/privacy/erase", {"email": email, "confirm": email}),
    ):
        response = sue.post(post, data={**data, "csrf_token": token})
        assert response.status_code == 200 and response.headers.get("Cache-Control") == "no-store", post
    session = chat(app, "hello")
    history = app.test_client().get(f"/api/messages?session_id={session}")
    assert history.status_code == 200 and history.headers.get("Cache-Control") == "no-store"
    assert "no-store" not in (app.test_client().get("/static/widget/widget.css").headers.get("Cache-Control") or "")


# --- also seen ------------------------------------------------------------------------------
def test_a_console_socket_is_closed_at_logout(app: Flask, url: str) -> None:
    _, hana = new_agent(app, "hana")
    live = socket_of(app, hana, role="agent")
    assert live.is_connected()
    assert hana.post("/agent/logout", data={"csrf_token": token_of(hana)}).status_code == 303
    assert not live.is_connected()  # no push reaches it after the logout


def test_sockets_revoked_elsewhere_are_closed_by_the_sweep(app: Flask, url: str) -> None:
    """A logout on another gateway (or the CLI disabling a login) reaches this gateway's sockets."""
    ivan_id, ivan = new_agent(app, "ivan")
    live = socket_of(app, ivan, role="agent")
    revoke_sessions(url, ivan_id)  # as another gateway does: the database only
    assert live.is_connected()
    app.extensions[EXTENSION].sweep()
    assert not live.is_connected()


def test_customer_sockets_close_when_the_chat_ends_expires_or_is_erased(app: Flask, sue: FlaskClient, url: str) -> None:
    ended = chat(app, "hello")
    widget = socket_of(app, session_id=ended)
    assert widget.is_connected()
    assert app.test_client().post("/api/session/end", json={"session_id": ended}).status_code == 200
    assert not widget.is_connected()

    idle = chat(app, "hello")
    widget = socket_of(app, session_id=idle)
    with session_scope(url) as db:
        db.execute(
            update(Conversation)
            .where(Conversation.id == idle)
            .values(last_activity_at=datetime.utcnow() - timedelta(days=1))
        )
    app.extensions[EXTENSION].sweep()
    assert not widget.is_connected()

    email = f"gone{os.urandom(3).hex()}@example.com"
    erased = chat(app, f"I'm {email}")
    widget = socket_of(app, session_id=erased)
    token = form_token(sue)
    response = sue.post(
        "/agent/privacy/erase",
        data={"email": email, "confirm": email, "erase_listed": "1", "ref": conversation_ref(erased), "csrf_token": token},
    )
    assert response.status_code == 303 and not widget.is_connected()
    alive = chat(app, "still here")
    assert socket_of(app, session_id=alive).is_connected()


def test_the_faq_editor_refuses_file_names_with_newlines_or_control_characters(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base", folder)
    draft = {"en": LanguageDraft(("Do you sell carpet cleaners?",), "Yes, we do.")}
    for name in ("rentals.yml\n", "rentals.yml\r", "rent\x00als.yml", "rentals\t.yml", "rentals.yml\x1b"):
        with pytest.raises(EditRejected, match="file names"):
            add_entry(folder, name, "carpet_cleaners", [], draft)
    with pytest.raises(EditRejected, match="invalid id"):
        add_entry(folder, "rentals.yml", "carpet_cleaners\n", [], draft)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (ROOT / "knowledge_base").iterdir())


def test_files_replaced_by_the_faq_editor_keep_their_mode(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base", folder)
    (folder / "shipping.yml").chmod(0o644)
    add_phrasings(folder, "shipping_options", "en", ["Which parcel services do you offer?"])
    assert stat.S_IMODE((folder / "shipping.yml").stat().st_mode) == 0o644
    (folder / "shipping.yml").chmod(0o664)
    add_phrasings(folder, "shipping_options", "en", ["What delivery firms can I pick?"])
    assert stat.S_IMODE((folder / "shipping.yml").stat().st_mode) == 0o664
    umask = os.umask(0o022)
    try:
        add_entry(folder, "rentals.yml", "carpet_cleaners", [], {"en": LanguageDraft(("Do you rent carpet cleaners?",), "No.")})
    finally:
        os.umask(umask)
    assert stat.S_IMODE((folder / "rentals.yml").stat().st_mode) == 0o644


class RefusingSmtp(smtpd.SMTPServer):
    """A real SMTP server on loopback that refuses mail to one address after DATA."""

    def __init__(self, refused: str) -> None:
        super().__init__(("127.0.0.1", 0), None)
        self.port, self.refused = self.socket.getsockname()[1], refused
        self.received: list[list[str]] = []
        threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True).start()

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if self.refused in rcpttos:
            return "550 mailbox unavailable"
        self.received.append(rcpttos)
        return None


def test_one_bad_mail_does_not_stop_the_outbox(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    services = build_test_services(tmp_path)
    server = RefusingSmtp("refused@example.com")
    try:
        secret = services.secret
        with session_scope(services.database_url) as db:
            db.add_all(
                [
                    OutboxEmail(to_address="refused@example.com", subject="One", body=seal(secret, "a")),
                    OutboxEmail(to_address="b@example.com", subject="Two\nBcc: x@example.com", body=seal(secret, "b")),
                    OutboxEmail(to_address="c@example.com", subject="Three", body=seal(secret, "c")),
                ]
            )
        smtp = SmtpSettings("127.0.0.1", server.port, sender="shop@example.com", starttls=False)
        assert deliver_outbox(services.database_url, smtp, secret) == 1
        assert server.received == [["c@example.com"]]
        with session_scope(services.database_url) as db:
            rows = {m.subject.split("\n")[0]: m for m in db.scalars(select(OutboxEmail))}
            assert rows["One"].failed_at and "SMTPDataError" in rows["One"].failure
            assert rows["Two"].failed_at and rows["Two"].sent_at is None
            assert rows["Three"].sent_at and rows["Three"].failed_at is None
        assert "marked failed" in caplog.text and "refused@example.com" not in caplog.text
        assert deliver_outbox(services.database_url, smtp, secret) == 0  # marked: not retried every run
        assert server.received == [["c@example.com"]]
    finally:
        server.close()
        services.close()


def test_rate_limits_on_session_end_socket_connects_kb_search_and_long_reports(app: Flask, sue: FlaskClient) -> None:
    services = app.extensions["services"]
    limits, settings = services.limits, services.settings.limits
    customer = {"REMOTE_ADDR": "198.51.100.77"}
    client = app.test_client()
    ends = [
        client.post("/api/session/end", json={"session_id": "x" * 32}, environ_base=customer).status_code
        for _ in range(settings.session_ends_per_client_per_minute + 1)
    ]
    assert ends[0] == 404 and ends[-1] == 429

    session = chat(app, "hello")
    connected = [
        socket_of(app, session_id=session).is_connected()
        for _ in range(settings.socket_connects_per_client_per_minute + 1)
    ]
    assert connected[0] and not connected[-1] and connected == sorted(connected, reverse=True)

    sue_id = str(agent_id_of(services.database_url, "sue"))
    for _ in range(settings.kb_searches_per_agent_per_minute):
        limits.kb_searches_per_agent.allow(sue_id)
    assert sue.get("/agent/kb/search?q=delivery").status_code == 429

    year = "/agent/reports.json?start=2026-01-01&end=2026-12-01"
    for _ in range(settings.long_reports_per_agent_per_minute):
        limits.long_reports_per_agent.allow(sue_id)
    assert sue.get(year).status_code == 429
    assert sue.get("/agent/reports.csv?start=2026-01-01&end=2026-12-01").status_code == 429
    assert sue.get(f"/agent/gaps.json?days={LONG_RANGE_DAYS + 1}").status_code == 429
    assert sue.get("/agent/reports.json?start=2026-11-20&end=2026-12-01").status_code == 200  # short: not limited


@pytest.mark.parametrize(
    "header",
    [
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
        {"X-Forwarded-For": "203.0.113.9"},
        {"Via": "1.1 proxy"},
    ],
)
def test_metrics_refuse_requests_that_came_through_a_proxy(app: Flask, header: dict[str, str]) -> None:
    client = app.test_client()
    local = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/metrics", environ_base=local).status_code == 200
    assert client.get("/metrics", environ_base=local, headers=header).status_code == 403


def test_the_rasa_wrapper_takes_the_token_from_the_environment() -> None:
    argv = ["run", "--enable-api", "-p", "5005"]
    assert with_token_from_environment(argv, {"RASA_TOKEN": "s3cret"}) == [*argv, "--auth-token", "s3cret"]
    with pytest.raises(MissingToken):
        with_token_from_environment(argv, {})
    assert with_token_from_environment(["train"], {}) == ["train"]


@pytest.mark.stack
def test_an_export_of_a_real_conversation_has_no_session_id(stack: Stack) -> None:
    """Rasa's tracker events are exported too: the session id must not ride along in them."""
    email = f"stack{os.urandom(3).hex()}@example.com"
    session = requests.post(f"{stack.url}/api/session", timeout=10).json()["session_id"]
    for text in ("hello", f"my email is {email}"):
        body = {"session_id": session, "text": text, "client_id": os.urandom(6).hex()}
        assert requests.post(f"{stack.url}/api/chat", json=body, timeout=60).status_code == 200
    exported = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", "privacy", "export", email],
        cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    [conversation] = json.loads(exported)["conversations"]
    assert conversation["ref"] == conversation_ref(session) and conversation["rasa_tracker_events"]
    assert session not in exported


class RawWidgetSocket:
    """The widget's transport spoken by hand: Engine.IO 4 over a real WebSocket, connected to one chat."""

    def __init__(self, base_url: str, session: str) -> None:
        import simple_websocket

        self.closed_error = simple_websocket.ConnectionClosed
        self.ws = simple_websocket.Client.connect(f"{base_url.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket")
        # A gateway's first WebSocket can take seconds to open on a loaded machine: only the close is timed.
        opened = self.until("0{", 45)
        assert opened and opened[-1].startswith("0{"), opened  # Engine.IO open
        self.ws.send("40" + json.dumps({"session_id": session}))
        connected = self.until('42["messages"', 30)
        assert connected and connected[-1].startswith('42["messages"'), connected  # with the backlog

    def until(self, prefix: str, seconds: float) -> list[str]:
        """Packets received until one starts with ``prefix`` (or the connection closes), within ``seconds``."""
        packets, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                packet = self.ws.receive(timeout=0.2)
            except self.closed_error:
                return [*packets, "closed"]
            if packet is not None:
                packets.append(packet)
                if packet.startswith(prefix):
                    return packets
        return packets

    def closed_within(self, seconds: float) -> bool:
        after = self.until("41", seconds)  # 41: Socket.IO disconnect from the server
        return bool(after) and after[-1] in ("41", "closed")

    def close(self) -> None:
        self.ws.close()


@pytest.mark.stack
def test_a_widget_websocket_is_closed_when_the_chat_ends(stack: Stack) -> None:
    """On the real gateway (gevent, WebSocket transport): ending the chat closes its socket at once."""
    session = requests.post(f"{stack.url}/api/session", timeout=10).json()["session_id"]

    widget = RawWidgetSocket(stack.url, session)
    try:
        ended = requests.post(f"{stack.url}/api/session/end", json={"session_id": session}, timeout=10)
        assert ended.status_code == 200
        # Closed by the end itself: the 5 s sweep would catch it within 1 s only by luck.
        assert widget.closed_within(1)
    finally:
        widget.close()
    # The long-polling transport carries the same pushes: never cached either.
    polling = requests.get(f"{stack.url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10)
    assert polling.status_code == 200 and polling.headers["Cache-Control"] == "no-store"


@pytest.mark.stack
def test_the_gateways_sweep_closes_a_widget_whose_chat_expired(stack: Stack) -> None:
    """The sweep really runs in the gateway (``python -m bot serve``), every few seconds."""
    import sqlite3

    session = requests.post(f"{stack.url}/api/session", timeout=10).json()["session_id"]
    widget = RawWidgetSocket(stack.url, session)
    try:
        with sqlite3.connect(stack.workdir / "var" / "app.db", timeout=15) as db:
            db.execute(
                "UPDATE conversations SET last_activity_at = datetime('now', '-1 day') WHERE id = ?", (session,)
            )
        assert widget.closed_within(SWEEP_SECONDS + 15)  # the next sweep, with room for a busy machine
    finally:
        widget.close()


@pytest.mark.stack
def test_the_rasa_token_is_not_on_any_command_line(stack: Stack) -> None:
    token = stack.env["RASA_TOKEN"]
    command_lines = []
    for proc in Path("/proc").iterdir():
        try:
            command_lines.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    rasa = [c for c in command_lines if "bot.rasa_server" in c and f"-p {stack.rasa_port}" in c]
    assert rasa, "the stack's Rasa server was not found"
    assert not [c for c in command_lines if token in c]
    base = stack.env["RASA_URL"]
    assert requests.get(f"{base}/status", timeout=10).status_code in (401, 403)  # the token is still required
    assert requests.get(f"{base}/status", params={"token": token}, timeout=10).status_code == 200
