"""Issue 12's console features through Flask's test client, on their own SQLite database:
session revocation and lifetime, no-store, presence, transfer, labels, canned answers,
search, verified-only history, unclaimed timeouts and email answers to tickets."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService
from bot.handoff.tickets import UnclaimedSweep, compose_email
from bot.messages.models import Conversation
from bot.profile import load_profile
from bot.settings import DEMO_PROFILE
from bot.shop.models import OutboxEmail
from bot.web.console import canned, read_models
from tests.conftest import agent_id_of, build_console_app
from tests.support import stack as stack_support
from tests.support.mail import MailServer
from tests.test_agent_console import PASSWORD, json_post, login, page_state, pushed_events, token_of


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    """A real SMTP server: this deployment can mail, so tickets promise an email reply."""
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, mail: MailServer) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("console_features")
    application = build_console_app(tmp, ("carol", "dave"), PASSWORD, **mail.env)
    yield application
    application.extensions["services"].close()


@pytest.fixture()
def service(app: Flask) -> HandoffService:
    return app.extensions["handoff"]


def agent_id(service: HandoffService, username: str) -> int:
    return agent_id_of(service.url, username)


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username)[0].status_code == 303
    return client


@pytest.fixture()
def carol(app: Flask) -> FlaskClient:
    return client_for(app, "carol")


@pytest.fixture()
def dave(app: Flask) -> FlaskClient:
    return client_for(app, "dave")


def queued(
    service: HandoffService, text: str = "I want to talk to a person", language: str = "en"
) -> tuple[int, str]:
    conversation = secrets.token_urlsafe(24)
    service.messages.record(conversation, "customer", text, language=language)
    agents.set_presence(service.url, agent_id(service, "carol"), "online")
    start = service.start(conversation, "customer_request", language, {"transcript": [], "slots": {}})
    assert start.online
    return start.handoff_id, conversation


def claimed_by(client: FlaskClient, service: HandoffService, username: str = "carol") -> tuple[int, str]:
    handoff_id, conversation = queued(service)
    assert json_post(client, f"/agent/handoffs/{handoff_id}/claim", token_of(client)).status_code == 200
    return handoff_id, conversation


# --- security ------------------------------------------------------------------------------
def test_a_copied_cookie_stops_working_after_logout(app: Flask, carol: FlaskClient) -> None:
    copy = app.test_client()
    copy.set_cookie("session", carol.get_cookie("session").value)
    assert copy.get("/agent/queue.json").status_code == 200  # the same session, for now
    live = app.extensions["socketio"].test_client(app, flask_test_client=copy, auth={"role": "agent"})
    assert live.is_connected()
    assert carol.post("/agent/logout", data={"csrf_token": token_of(carol)}).status_code == 303
    assert not live.is_connected()  # closed by the logout itself, not a heartbeat later
    assert copy.get("/agent/queue.json").status_code == 401
    socket = app.extensions["socketio"].test_client(app, flask_test_client=copy, auth={"role": "agent"})
    assert not socket.is_connected()


def test_a_password_change_logs_out_every_session(app: Flask, service: HandoffService) -> None:
    agents.upsert_agent(service.url, "erin", PASSWORD, "Erin")
    first, second = client_for(app, "erin"), client_for(app, "erin")
    wrong = first.post(
        "/agent/password",
        data={
            "current": "not it",
            "new": "a new long password",
            "repeat": "a new long password",
            "csrf_token": token_of(first),
        },
    )
    assert wrong.status_code == 400 and second.get("/agent/queue.json").status_code == 200
    changed = first.post(
        "/agent/password",
        data={
            "current": PASSWORD,
            "new": "a new long password",
            "repeat": "a new long password",
            "csrf_token": token_of(first),
        },
    )
    assert changed.status_code == 303 and changed.headers["Location"].endswith("/agent/login")
    assert first.get("/agent/queue.json").status_code == 401
    assert second.get("/agent/queue.json").status_code == 401
    assert agents.authenticate(service.url, "erin", "a new long password") is not None


def test_sessions_have_an_absolute_lifetime(app: Flask, carol: FlaskClient) -> None:
    with carol.session_transaction() as session:
        session["login_at"] = int(time.time() - app.extensions["settings"].console.session_hours * 3600 - 1)
    assert carol.get("/agent/queue.json").status_code == 401


def test_console_pages_are_not_stored(carol: FlaskClient, service: HandoffService) -> None:
    handoff_id, _ = queued(service)
    for url in ("/agent/", f"/agent/handoffs/{handoff_id}", "/agent/queue.json", "/agent/search?q=x"):
        assert carol.get(url).headers["Cache-Control"] == "no-store", url
    assert "no-store" in carol.application.test_client().get("/agent/login").headers["Cache-Control"]


def test_history_trusts_only_the_verified_email(carol: FlaskClient, service: HandoffService) -> None:
    victim = f"victim{secrets.token_hex(3)}@example.com"
    earlier, earlier_conversation = queued(service, "my earlier problem")
    with session_scope(service.url) as db:
        db.get(Conversation, earlier_conversation).customer_email = victim  # verified back then
    # Someone merely types the victim's address as their contact: shown unverified, no history.
    typed, _ = queued(service, "whatever")
    with session_scope(service.url) as db:
        db.get(Handoff, typed).contact_email = victim
    page = carol.get(f"/agent/handoffs/{typed}").get_data(as_text=True)
    assert 'data-testid="unverified-email"' in page and victim in page
    assert f'href="/agent/handoffs/{earlier}"' not in page and "my earlier problem" not in page
    # Verified in this conversation: the earlier conversation shows.
    verified, verified_conversation = queued(service, "again me")
    service.link_customer(verified_conversation, victim)
    page = carol.get(f"/agent/handoffs/{verified}").get_data(as_text=True)
    assert 'data-testid="verified-email"' in page
    assert f'href="/agent/handoffs/{earlier}"' in page and "my earlier problem" in page


# --- presence -----------------------------------------------------------------------------
def test_presence_decides_whether_customers_queue_and_the_expected_wait(
    carol: FlaskClient, dave: FlaskClient, service: HandoffService
) -> None:
    token_c, token_d = token_of(carol), token_of(dave)
    with session_scope(service.url) as db:  # earlier tests' agents went home
        db.execute(update(Agent).where(Agent.username.not_in(["carol", "dave"])).values(presence="offline"))
    assert json_post(carol, "/agent/presence", token_c, {"presence": "away"}).status_code == 200
    assert json_post(dave, "/agent/presence", token_d, {"presence": "offline"}).status_code == 200
    assert service.online_agents() == 0 and not service.agents_online()  # logged in, but not online
    assert json_post(carol, "/agent/presence", token_c, {"presence": "busy"}).status_code == 400
    state = carol.get("/agent/queue.json").get_json()
    assert state["online"] == 0 and state["expected_wait_minutes"] is None
    assert json_post(carol, "/agent/presence", token_c, {"presence": "online"}).status_code == 200
    assert json_post(dave, "/agent/presence", token_d, {"presence": "online"}).status_code == 200
    assert service.online_agents() == 2
    assert service.expected_wait_minutes(4, 2) == 2 * service.settings.average_handle_minutes
    # A console gone silent (no heartbeat) counts as offline even if it said online.
    stale = datetime.utcnow() - timedelta(seconds=service.settings.presence_timeout_seconds + 5)
    with session_scope(service.url) as db:
        db.execute(update(Agent).where(Agent.username == "dave").values(last_seen_at=stale))
    assert service.online_agents() == 1
    team = {a["name"]: a["presence"] for a in carol.get("/agent/queue.json").get_json()["team"]}
    assert team["Dave"] == "offline" and team["Carol"] == "online"


# --- transfer, labels ---------------------------------------------------------------------
def test_transfer_to_a_colleague_and_back_to_the_queue_with_notes(
    app: Flask, carol: FlaskClient, dave: FlaskClient, service: HandoffService
) -> None:
    handoff_id, _ = claimed_by(carol, service)
    url = f"/agent/handoffs/{handoff_id}/transfer"
    token = token_of(carol)
    assert json_post(carol, url, token, {"to": "nobody"}).status_code == 400
    assert json_post(carol, url, token, {"to": str(agent_id(service, "carol"))}).status_code == 400
    assert json_post(dave, url, token_of(dave), {"to": "queue"}).status_code == 409  # not Dave's to give
    socket = app.extensions["socketio"].test_client(app, flask_test_client=dave, auth={"role": "agent"})
    moved = json_post(carol, url, token, {"to": str(agent_id(service, "dave")), "note": "VIP, be kind"})
    assert moved.status_code == 200
    event = [data for name, data in pushed_events(socket) if name == "queue"][-1]
    assert event == {
        "handoff_id": handoff_id,
        "status": "assigned",
        "agent_id": agent_id(service, "dave"),
        "transfer": True,
    }
    socket.disconnect()
    state = dave.get(f"/agent/handoffs/{handoff_id}/state").get_json()
    assert state["handoff"]["agent_name"] == "Dave" and state["handoff"]["status"] == "assigned"
    assert state["notes"][-1]["kind"] == "transfer"
    assert state["notes"][-1]["text"] == "Transferred from Carol to Dave: VIP, be kind"
    assert handoff_id in [h["id"] for h in dave.get("/agent/queue.json").get_json()["mine"]]
    # Dave gives it back to the queue: it waits again, in its original place, for anyone.
    assert (
        json_post(dave, url, token_of(dave), {"to": "queue", "note": "wrong department"}).status_code == 200
    )
    waiting = carol.get("/agent/queue.json").get_json()["waiting"]
    assert handoff_id in [h["id"] for h in waiting]
    assert (
        read_models.notes(service.url, handoff_id)[-1]["text"]
        == "Transferred from Dave to the queue: wrong department"
    )


def test_labels_are_validated_shown_and_filter_search(carol: FlaskClient, service: HandoffService) -> None:
    handoff_id, _ = queued(service, "my kettle arrived broken")
    url = f"/agent/handoffs/{handoff_id}/labels"
    token = token_of(carol)
    assert json_post(carol, url, token, {"label": "<b>bad</b>"}).status_code == 400
    assert json_post(carol, url, token, {"label": "Damaged"}).get_json()["labels"] == ["damaged"]
    assert json_post(carol, url, token, {"label": "damaged"}).get_json()["labels"] == ["damaged"]  # once
    assert json_post(carol, url, token, {"label": "refund"}).get_json()["labels"] == ["damaged", "refund"]
    row = next(h for h in carol.get("/agent/queue.json").get_json()["waiting"] if h["id"] == handoff_id)
    assert row["labels"] == ["damaged", "refund"]
    found = carol.get("/agent/search?label=damaged", headers={"Accept": "application/json"}).get_json()
    assert [r["id"] for r in found["results"]] == [handoff_id]
    assert json_post(carol, url, token, {"label": "refund", "present": False}).get_json()["labels"] == [
        "damaged"
    ]
    assert json_post(carol, "/agent/handoffs/999999/labels", token, {"label": "x"}).status_code == 404


# --- search --------------------------------------------------------------------------------------
def test_search_by_email_order_number_and_text(carol: FlaskClient, service: HandoffService) -> None:
    marker = secrets.token_hex(4)
    by_text, _ = queued(service, f"the blender {marker} makes a noise")
    by_email, conversation = queued(service, "hello")
    email = f"searcher{marker}@example.com"
    service.link_customer(conversation, email)
    number = f"{secrets.randbelow(900000) + 100000}"
    by_order, _ = queued(service, "where is it")
    with session_scope(service.url) as db:
        db.get(Handoff, by_order).context = {"transcript": [], "slots": {}, "verified_order": number}

    def ids(query: str) -> list[int]:
        response = carol.get(
            "/agent/search", query_string={"q": query}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200
        return [r["id"] for r in response.get_json()["results"]]

    assert ids(marker) == [by_text]
    assert ids(email.upper()) == [by_email]
    assert ids(number) == [by_order]
    assert ids("100%_") == []  # LIKE wildcards are literal
    assert carol.get("/agent/search?q=" + "x" * 201).status_code in (302, 303, 400)
    page = carol.get("/agent/search", query_string={"q": marker}).get_data(as_text=True)
    assert f'href="/agent/handoffs/{by_text}"' in page


# --- canned answers ----------------------------------------------------------------------------------
def test_the_shipped_canned_answers_are_valid_in_every_language(app: Flask) -> None:
    answers = canned.load(Path(stack_support.ROOT) / "canned" / "answers.yml")
    assert len(answers) >= 5 and {"hello", "refund", "bye"} <= {a.shortcode for a in answers}
    for answer in answers:
        assert set(answer.text) == {"en", "ru", "sk", "hu"}


def test_canned_answer_problems_are_all_reported() -> None:
    with pytest.raises(canned.CannedError) as problems:
        canned.parse(
            [
                {"shortcode": "Bad Code", "title": "x", "text": {}},
                {"shortcode": "dup", "title": "x", "text": {"en": "a", "ru": "a", "sk": "a", "hu": "a"}},
                {"shortcode": "dup", "title": "", "text": {"en": "a", "de": "b"}},
            ]
        )
    message = str(problems.value)
    assert "answer 1: shortcode must be" in message
    assert "/dup: duplicate shortcode" in message and "/dup: title is missing" in message
    assert "/dup: no text in ru" in message and "/dup: unknown language(s) de" in message


def test_canned_answers_come_in_the_customers_language(carol: FlaskClient, service: HandoffService) -> None:
    sk = carol.get("/agent/canned.json?lang=sk").get_json()["answers"]
    refund = next(a for a in sk if a["shortcode"] == "refund")
    assert refund["lang"] == "sk" and "**14 dní**" in refund["text"]  # the profile's refund_days
    assert carol.get("/agent/canned.json?lang=xx").status_code == 400
    handoff_id, _ = queued(service, "Chcem hovoriť s človekom", language="sk")
    state = page_state(carol.get(f"/agent/handoffs/{handoff_id}").get_data(as_text=True))
    assert all(a["lang"] == "sk" for a in state["canned"])


# --- unclaimed handoffs and email answers -----------------------------------------------------------
def age(service: HandoffService, handoff_id: int, minutes: float) -> None:
    then = datetime.utcnow() - timedelta(minutes=minutes)
    with session_scope(service.url) as db:
        db.execute(update(Handoff).where(Handoff.id == handoff_id).values(created_at=then, queued_at=then))


def test_an_unclaimed_handoff_becomes_a_ticket_once(app: Flask, service: HandoffService) -> None:
    fresh, _ = queued(service)
    stale, conversation = queued(service)
    age(service, stale, service.settings.unclaimed_timeout_minutes + 1)
    sweep = UnclaimedSweep(service, service.messages)
    first, second = sweep.run_once(), sweep.run_once()  # e.g. two gateways, one after the other
    assert [t.handoff_id for t in first] == [stale] and second == []
    with session_scope(service.url) as db:
        ticket, waiting = db.get(Handoff, stale), db.get(Handoff, fresh)
        assert ticket.status == "ticket" and ticket.timed_out_at and ticket.promise_due_at
        assert waiting.status == "queued"
        assert db.get(Conversation, conversation).mode == "bot"
    told = [m for m in service.messages.after(conversation) if m["sender"] == "system"]
    assert len(told) == 1 and "10 minutes" in told[0]["text"] and "email" in told[0]["text"]
    # The customer answers with an address: it goes on the ticket, not to the bot.
    customer = app.test_client()
    answer = customer.post(
        "/api/chat", json={"session_id": conversation, "text": "it is jo@example.com"}
    ).get_json()
    assert answer["messages"][-1]["text"] == "Thank you. We'll reply to jo@example.com within 24 hours."
    with session_scope(service.url) as db:
        assert db.get(Handoff, stale).contact_email == "jo@example.com"
    assert not service.awaiting_contact(conversation)


def test_a_verified_customer_is_told_where_the_reply_goes(service: HandoffService) -> None:
    handoff_id, conversation = queued(service, "hallo", language="sk")
    service.link_customer(conversation, "anna@example.sk")
    age(service, handoff_id, 11)
    UnclaimedSweep(service, service.messages).run_once()
    told = [m["text"] for m in service.messages.after(conversation) if m["sender"] == "system"]
    assert told == [
        "Prepáčte, za posledných 10 minút sa nikto z nášho tímu nemohol venovať vášmu chatu. "
        "Kolega vám odpovie e-mailom na anna@example.sk do 24 hodín."
    ]
    with session_scope(service.url) as db:
        assert db.get(Handoff, handoff_id).contact_email == "anna@example.sk"


def test_an_email_answer_keeps_the_promise_and_shows_in_the_chat(
    app: Flask, carol: FlaskClient, service: HandoffService, mail: MailServer
) -> None:
    handoff_id, conversation = queued(service, "Moja kanvica nefunguje", language="sk")
    service.link_customer(conversation, "peter@example.sk")
    age(service, handoff_id, 11)
    UnclaimedSweep(service, service.messages).run_once()
    url = f"/agent/tickets/{handoff_id}/email"
    token = token_of(carol)
    assert json_post(carol, url, token, {"text": "  "}).status_code == 400
    sent = json_post(carol, url, token, {"text": "Pošleme vám novú kanvicu."})
    assert sent.status_code == 200 and sent.get_json()["to"] == "peter@example.sk"
    state = carol.get(f"/agent/handoffs/{handoff_id}/state").get_json()["handoff"]
    assert state["promise_kept_at"] and state["email_reply_at"]
    received = mail.wait_for(lambda m: m["To"] == "peter@example.sk")  # at the SMTP server
    with session_scope(service.url) as db:
        stored = db.execute(select(OutboxEmail).where(OutboxEmail.to_address == "peter@example.sk")).scalar_one()
        assert "Pošleme vám novú kanvicu." not in stored.body  # sealed at rest (and emptied once sent)
    body = MailServer.text(received)
    assert received["Subject"] == "Vaša požiadavka na podporu VoltMart"
    assert body.startswith("Dobrý deň,") and "> Moja kanvica nefunguje" in body and "Carol" in body
    chat = service.messages.after(conversation)
    assert chat[-1]["sender"] == "agent" and chat[-1]["text"] == "Pošleme vám novú kanvicu."
    # Only tickets are answered by email.
    queued_id, _ = queued(service)
    assert json_post(carol, f"/agent/tickets/{queued_id}/email", token, {"text": "hi"}).status_code == 409


def test_compose_email_falls_back_to_english() -> None:
    subject, body = compose_email("de", "Hello there", "Ann", ["where is my order"], load_profile(DEMO_PROFILE))
    assert subject == "Your VoltMart support request"
    assert (
        body
        == "Hello,\n\nHello there\n\nYou wrote to us in the chat:\n> where is my order\n\nAnn, VoltMart customer support\n"
    )


def test_the_queue_shows_each_conversations_channel_and_filters_by_it(
    app: Flask, service: HandoffService, carol: FlaskClient
) -> None:
    from datetime import timedelta

    from bot.messages.models import Channel

    widget_handoff, _ = queued(service)
    chat = service.messages.channel_conversation(Channel.TELEGRAM, "9001", timedelta(hours=2))
    service.messages.record(chat, "customer", "a person please", language="en")
    telegram_handoff = service.start(
        chat, "customer_request", "en", {"transcript": [], "slots": {}}
    ).handoff_id
    everything = carol.get("/agent/queue.json").get_json()["waiting"]
    channels = {row["id"]: row["channel"] for row in everything}
    assert channels[widget_handoff] == "widget" and channels[telegram_handoff] == "telegram"
    only_telegram = carol.get("/agent/queue.json?channel=telegram").get_json()
    assert [row["id"] for row in only_telegram["waiting"]] == [telegram_handoff]
    assert widget_handoff in [
        row["id"] for row in carol.get("/agent/queue.json?channel=widget").get_json()["waiting"]
    ]
    assert telegram_handoff not in [
        row["id"] for row in carol.get("/agent/queue.json?channel=widget").get_json()["waiting"]
    ]
    assert carol.get("/agent/queue.json?channel=fax").status_code == 400
    assert only_telegram["channels"] == ["widget", "email", "telegram"]
    assert 'data-testid="channel-filter"' in carol.get("/agent/").get_data(as_text=True)
    panel = carol.get(f"/agent/handoffs/{telegram_handoff}/state").get_json()
    assert panel["handoff"]["channel"] == "telegram"
