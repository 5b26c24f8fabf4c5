"""The agent console through Flask's test client (and Flask-SocketIO's), on its own SQLite database."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Handoff
from bot.handoff.service import HandoffService
from bot.web.console import read_models
from tests.conftest import agent_id_of, build_console_app

PASSWORD = "correct horse battery"
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_STATE = re.compile(r'<script type="application/json" id="page-state">(.*?)</script>', re.S)


def page_state(html: str) -> dict:
    """The JSON a console page embeds and renders its rows from."""
    return json.loads(PAGE_STATE.search(html).group(1))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("agent_console")
    application = build_console_app(tmp, ("alice", "bob"), PASSWORD)
    yield application
    application.extensions["services"].close()


@pytest.fixture()
def service(app: Flask) -> HandoffService:
    return app.extensions["handoff"]


def _agent_id(service: HandoffService, username: str) -> int:
    return agent_id_of(service.url, username)


def login(client: FlaskClient, username: str = "alice", password: str = PASSWORD, **kw) -> tuple:
    page = client.get("/agent/login", **kw)
    token = FORM_TOKEN.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        "/agent/login", data={"username": username, "password": password, "csrf_token": token}, **kw
    )
    return response, token


def token_of(client: FlaskClient) -> str:
    return META_TOKEN.search(client.get("/agent/").get_data(as_text=True)).group(1)


@pytest.fixture()
def alice(app: Flask) -> FlaskClient:
    client = app.test_client()
    response, _ = login(client, "alice")
    assert response.status_code == 303
    return client


@pytest.fixture()
def bob(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "bob")[0].status_code == 303
    return client


def new_handoff(
    service: HandoffService, customer_text: str = "I want to talk to a person", **context
) -> tuple[int, str]:
    conversation = secrets.token_urlsafe(24)
    service.messages.record(conversation, "customer", "hello")
    service.messages.record(conversation, "bot", "Hi! How can I help?")
    service.messages.record(conversation, "customer", customer_text)
    agents.set_presence(service.url, _agent_id(service, "alice"), "online")  # someone is online: it queues
    transcript = [
        {
            "sender": "customer",
            "text": "hello",
            "at": 1.0,
            "intent_ranking": [{"name": "greet", "confidence": 0.97}, {"name": "thanks", "confidence": 0.02}],
            "entities": [],
        },
        {"sender": "bot", "text": "Hi! How can I help?", "at": 2.0},
        {
            "sender": "customer",
            "text": customer_text,
            "at": 3.0,
            "intent_ranking": [{"name": "request_human", "confidence": 0.91}],
            "entities": [],
        },
    ]
    start = service.start(
        conversation,
        "customer_request",
        "sk",
        {
            "reason": "customer_request",
            "language": "sk",
            "transcript": transcript,
            "slots": context.get("slots", {}),
            "verified_order": context.get("verified_order"),
            "faq_candidates": [{"id": "refund_policy", "score": 0.81}],
        },
    )
    assert start.online
    return start.handoff_id, conversation


def pushed_events(socket_client) -> list[tuple[str, dict]]:
    """(event, payload) pairs a Flask-SocketIO test client received."""
    found = []
    for event in socket_client.get_received():
        args = event["args"]
        found.append((event["name"], args[0] if isinstance(args, list) else args))
    return found


def json_post(client: FlaskClient, url: str, token: str | None, body: dict | None = None):
    headers = {"Accept": "application/json"}
    if token:
        headers["X-CSRFToken"] = token
    return client.post(url, json=body if body is not None else {}, headers=headers)


# --- login -------------------------------------------------------------------------
def test_every_page_requires_login(app: Flask, service: HandoffService) -> None:
    handoff_id, _ = new_handoff(service)
    client = app.test_client()
    page = client.get("/agent/")
    assert page.status_code == 302 and "/agent/login" in page.headers["Location"]
    conversation = client.get(f"/agent/handoffs/{handoff_id}")
    assert conversation.status_code == 302 and "/agent/login" in conversation.headers["Location"]
    for url in ("/agent/queue.json", f"/agent/handoffs/{handoff_id}/state", "/agent/kb/search?q=x"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.get_json() == {"error": "login required"}
    # A POST with a valid token but no login is refused too.
    token = FORM_TOKEN.search(client.get("/agent/login").get_data(as_text=True)).group(1)
    assert json_post(client, f"/agent/handoffs/{handoff_id}/claim", token).status_code == 401
    assert service.active_handoff(_conversation_of(service, handoff_id)).status == "queued"


def _conversation_of(service: HandoffService, handoff_id: int) -> str:
    with session_scope(service.url) as db:
        return db.get(Handoff, handoff_id).conversation_id


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask) -> None:
    client = app.test_client()
    for username, password in (("alice", "not the password"), ("mallory", PASSWORD)):
        response, _ = login(client, username, password)
        assert response.status_code == 401
        assert "wrong login or password" in response.get_data(as_text=True)
    assert client.get("/agent/").status_code == 302  # still not logged in


def test_failed_logins_are_rate_limited_per_ip_and_per_login(app: Flask) -> None:
    client = app.test_client()
    from_ip = {"environ_base": {"REMOTE_ADDR": "10.0.0.7"}}
    for attempt in range(5):
        assert login(client, f"nobody{attempt}", "wrong password", **from_ip)[0].status_code == 401
    # Blocked from that address, even with the right password.
    assert login(client, "alice", PASSWORD, **from_ip)[0].status_code == 429
    # One login name attacked from many addresses.
    for n in range(5):
        other = app.test_client()
        ip = {"environ_base": {"REMOTE_ADDR": f"10.0.1.{n}"}}
        assert login(other, "bob", "wrong password", **ip)[0].status_code == 401
    blocked = app.test_client()
    assert login(blocked, "bob", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.2.1"})[0].status_code == 429
    app.extensions["services"].limits.login_failures.clear("user:bob")  # let the other tests log bob in


def test_login_regenerates_the_session_and_logout_ends_it(app: Flask) -> None:
    client = app.test_client()
    response, before = login(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/agent/")
    after = token_of(client)
    assert after != before  # the pre-login session (and its CSRF token) is gone
    assert client.post("/agent/logout", data={"csrf_token": after}).status_code == 303
    assert client.get("/agent/").status_code == 302


def test_login_does_not_redirect_off_site(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/agent/login?next=https://evil.example/")
    token = FORM_TOKEN.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        "/agent/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/agent/")


# --- CSRF ----------------------------------------------------------------------------
def test_posts_without_csrf_token_are_refused_even_when_logged_in(
    alice: FlaskClient, service: HandoffService
) -> None:
    handoff_id, conversation = new_handoff(service)
    url = f"/agent/handoffs/{handoff_id}"
    assert json_post(alice, url + "/claim", None).status_code == 400
    assert alice.post(url + "/notes", data={"text": "no token"}).status_code == 400
    assert alice.post("/agent/logout").status_code == 400
    assert service.active_handoff(conversation).status == "queued"
    assert read_models.notes(service.url, handoff_id) == []
    token = token_of(alice)
    assert json_post(alice, url + "/claim", "forged-token").status_code == 400
    assert json_post(alice, url + "/claim", token).status_code == 200
    assert alice.post(url + "/notes", data={"text": "with token", "csrf_token": token}).status_code == 303
    assert [n["text"] for n in read_models.notes(service.url, handoff_id)] == ["with token"]


# --- claiming ------------------------------------------------------------------------
def test_two_agents_claiming_at_once_exactly_one_wins(
    alice: FlaskClient, bob: FlaskClient, service: HandoffService
) -> None:
    handoff_id, conversation = new_handoff(service)
    clients = {"Alice": alice, "Bob": bob}
    tokens = {name: token_of(client) for name, client in clients.items()}
    barrier = threading.Barrier(2)
    results: dict[str, tuple[int, dict]] = {}

    def claim(name: str) -> None:
        barrier.wait()
        response = json_post(clients[name], f"/agent/handoffs/{handoff_id}/claim", tokens[name])
        results[name] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=claim, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(status for status, _ in results.values()) == [200, 409]
    winner = next(name for name, (status, _) in results.items() if status == 200)
    loser = next(name for name in clients if name != winner)
    assert results[loser][1]["error"] == f"already taken by {winner}"
    assert service.active_handoff(conversation).agent_id == _agent_id(service, winner.lower())
    # The winner claiming again is harmless; the loser cannot reply.
    assert (
        json_post(clients[winner], f"/agent/handoffs/{handoff_id}/claim", tokens[winner]).status_code == 200
    )
    reply = json_post(clients[loser], f"/agent/handoffs/{handoff_id}/messages", tokens[loser], {"text": "hi"})
    assert reply.status_code == 409


# --- the queue -----------------------------------------------------------------------
def test_queue_lists_waiting_oldest_first_with_preview_and_touches_presence(
    alice: FlaskClient, service: HandoffService
) -> None:
    first, _ = new_handoff(service, "first customer question")
    second, _ = new_handoff(service, "second customer question")
    data = alice.get("/agent/queue.json").get_json()
    ids = [row["id"] for row in data["waiting"]]
    assert ids.index(first) < ids.index(second)
    row = next(r for r in data["waiting"] if r["id"] == first)
    assert row["preview"] == "first customer question"
    assert row["language"] == "sk" and row["reason"] == "customer_request"
    assert row["wait_seconds"] >= 0
    assert service.agents_online()
    page = alice.get("/agent/").get_data(as_text=True)
    assert first in [row["id"] for row in page_state(page)["waiting"]]  # rendered by render.js


def test_agent_text_that_is_empty_or_too_long_is_refused_and_not_stored(
    alice: FlaskClient, service: HandoffService, app: Flask
) -> None:
    handoff_id, conversation = new_handoff(service)
    token = token_of(alice)
    assert json_post(alice, f"/agent/handoffs/{handoff_id}/claim", token).status_code == 200
    before = len(service.messages.after(conversation))
    limit = app.extensions["services"].settings.limits.max_message_chars
    for url, noun in ((f"/agent/handoffs/{handoff_id}/messages", "message"), (f"/agent/tickets/{handoff_id}/email", "answer")):
        empty = json_post(alice, url, token, {"text": " \n "})
        assert (empty.status_code, empty.get_json()) == (400, {"error": f"the {noun} is empty"})
        huge = json_post(alice, url, token, {"text": "x" * (limit + 1)})
        assert huge.status_code == 413
        assert huge.get_json() == {"error": f"the {noun} is too long (at most {limit} characters)"}
    assert len(service.messages.after(conversation)) == before


def test_ticket_promise_stays_visible_until_kept(alice: FlaskClient, service: HandoffService) -> None:
    conversation = secrets.token_urlsafe(24)
    service.messages.record(conversation, "customer", "my order never came")
    with session_scope(service.url) as db:
        db.add(
            Handoff(
                conversation_id=conversation,
                status="ticket",
                reason="customer_request",
                language="en",
                context={"transcript": []},
            )
        )
    service.leave_contact(conversation, "jana@example.com")
    tickets = alice.get("/agent/queue.json").get_json()["tickets"]
    ticket = next(t for t in tickets if t["contact_email"] == "jana@example.com")
    assert ticket["promise"] == "reply by email within 24 hours" and ticket["promise_due_at"]
    assert "jana@example.com" in alice.get("/agent/").get_data(as_text=True)  # in the embedded rows
    kept = alice.post(f"/agent/tickets/{ticket['id']}/promise-kept", data={"csrf_token": token_of(alice)})
    assert kept.status_code == 303
    assert ticket["id"] not in [t["id"] for t in alice.get("/agent/queue.json").get_json()["tickets"]]


# --- the conversation view -----------------------------------------------------------
def test_customer_html_is_escaped_in_the_conversation_page(
    alice: FlaskClient, service: HandoffService
) -> None:
    evil = "<script>alert(1)</script>"
    handoff_id, _ = new_handoff(service, evil, slots={"order_number": "<img src=x onerror=alert(2)>"})
    page = alice.get(f"/agent/handoffs/{handoff_id}").get_data(as_text=True)
    assert evil not in page
    assert "<img src=x" not in page
    # The only script elements are our own files and the JSON the rows are rendered from.
    scripts = re.findall(r"<script[^>]*>", page)
    assert all('src="/' in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assert "\\u003cscript\\u003ealert(1)" in page  # the JSON escapes markup
    assert any(m["text"] == evil for m in page_state(page)["timeline"])  # and keeps the text exact


def test_conversation_page_shows_the_whole_context(alice: FlaskClient, service: HandoffService) -> None:
    handoff_id, _ = new_handoff(service, slots={"email": "x@example.com"})
    page = alice.get(f"/agent/handoffs/{handoff_id}").get_data(as_text=True)
    timeline = page_state(page)["timeline"]
    assert [m["text"] for m in timeline] == ["hello", "Hi! How can I help?", "I want to talk to a person"]
    assert timeline[2]["intent_ranking"] == [{"name": "request_human", "confidence": 0.91}]
    assert timeline[0]["intent_ranking"][0] == {"name": "greet", "confidence": 0.97}
    assert "refund_policy" in page and "0.81" in page  # FAQ candidates with scores
    assert page_state(page)["handoff"]["reason"] == "customer_request" and ">sk<" in page
    assert "x@example.com" in page  # slots


def test_notes_are_stored_and_shown_to_agents(
    alice: FlaskClient, bob: FlaskClient, service: HandoffService
) -> None:
    handoff_id, conversation = new_handoff(service)
    response = alice.post(
        f"/agent/handoffs/{handoff_id}/notes",
        data={"text": "customer is a <b>VIP</b>", "csrf_token": token_of(alice)},
    )
    assert response.status_code == 303
    stored = read_models.notes(service.url, handoff_id)
    assert [(n["text"], n["agent_name"]) for n in stored] == [("customer is a <b>VIP</b>", "Alice")]
    page = bob.get(f"/agent/handoffs/{handoff_id}").get_data(as_text=True)
    assert [n["text"] for n in page_state(page)["notes"]] == ["customer is a <b>VIP</b>"]
    assert "<b>VIP" not in page
    # Notes never reach the customer.
    assert all("VIP" not in m["text"] for m in service.messages.after(conversation))


def test_live_chat_both_ways(alice: FlaskClient, service: HandoffService, app: Flask) -> None:
    handoff_id, conversation = new_handoff(service)
    token = token_of(alice)
    assert json_post(alice, f"/agent/handoffs/{handoff_id}/claim", token).status_code == 200
    sent = json_post(alice, f"/agent/handoffs/{handoff_id}/messages", token, {"text": "Hello, Alice here"})
    assert sent.status_code == 200
    message = sent.get_json()["message"]
    customer = app.test_client()
    seen = customer.get(f"/api/messages?session_id={conversation}&after={message['id'] - 1}").get_json()
    assert seen["messages"][0]["sender"] == "agent"
    assert seen["messages"][0]["agent_name"] == "Alice" and seen["mode"] == "handoff"
    console = app.extensions["socketio"].test_client(app, flask_test_client=alice, auth={"role": "agent"})
    assert console.is_connected()
    ack = console.emit("watch", {"handoff_id": handoff_id, "after": message["id"]}, callback=True)
    assert ack == {"messages": [], "status": "assigned"}
    reply = customer.post("/api/chat", json={"session_id": conversation, "text": "thanks, my kettle broke"})
    assert reply.get_json()["mode"] == "handoff"
    pushed = pushed_events(console)
    assert [data["text"] for name, data in pushed if name == "message"] == ["thanks, my kettle broke"]
    queue_events = [data for name, data in pushed if name == "queue"]
    assert {"handoff_id": handoff_id, "customer_message": True} .items() <= queue_events[-1].items()
    console.disconnect()
    empty = json_post(alice, f"/agent/handoffs/{handoff_id}/messages", token, {"text": "   "})
    assert empty.status_code == 400


def test_kb_search_answers_in_the_requested_language(alice: FlaskClient) -> None:
    found = alice.get("/agent/kb/search?q=How long does my refund take?&lang=sk").get_json()
    shown = found["results"] + found["weaker"]
    assert shown and all(r["answer"] for r in shown)
    assert shown[0]["lang"] == "sk"
    assert alice.get("/agent/kb/search?q=&lang=sk").status_code == 400
    by_id = alice.get("/agent/kb/search?q=refund_policy&lang=en").get_json()["results"]
    assert by_id[0]["id"] == "refund_policy"


def test_kb_search_decides_as_the_bot_does(alice: FlaskClient, app: Flask) -> None:
    """An unrelated entry at 0.86 is not a match: the console uses the bot's own gate."""
    kb = app.extensions["services"].knowledge_base
    for query in ("forgot password", "password forgotten"):
        found = alice.get("/agent/kb/search", query_string={"q": query, "lang": "en"}).get_json()
        decision = kb.decide(query)
        assert [r["id"] for r in found["results"]] == ([decision.entry_id] if decision.answered else [])
        assert "delete_account" not in [r["id"] for r in found["results"]]
        assert all(not r["answers"] and r["score"] < found["bar"] for r in found["weaker"])
    refund = alice.get("/agent/kb/search", query_string={"q": "When will I get my money back after a return?"})
    answered = refund.get_json()
    assert answered["results"] and answered["results"][0]["answers"] is True
    assert answered["results"][0]["score"] >= answered["bar"]
    assert answered["results"][0]["id"] == kb.decide("When will I get my money back after a return?").entry_id


# --- resolving -----------------------------------------------------------------------
class FakeRasa:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def resume_and_run(self, sender: str, action: str) -> list[dict]:
        self.calls.append((sender, action))
        buttons = [{"title": str(n), "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
        return [
            {"recipient_id": sender, "text": "How would you rate the help you got today?", "buttons": buttons}
        ]


def test_resolve_gives_the_conversation_back_to_the_bot_and_asks_for_a_rating(
    alice: FlaskClient, service: HandoffService, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff_id, conversation = new_handoff(service)
    token = token_of(alice)
    assert json_post(alice, f"/agent/handoffs/{handoff_id}/claim", token).status_code == 200
    assert service.messages.mode(conversation) == "handoff"
    fake = FakeRasa()
    monkeypatch.setitem(app.extensions, "rasa", fake)
    response = json_post(alice, f"/agent/handoffs/{handoff_id}/resolve", token)
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "rating_prompt": True, "warning": None}
    assert service.messages.mode(conversation) == "bot"
    assert fake.calls == [(conversation, "action_ask_rating")]
    prompt = service.messages.after(conversation)[-1]
    assert prompt["sender"] == "bot" and len(prompt["buttons"]) == 5
    assert read_models.handoff_detail(service.url, handoff_id)["status"] == "resolved"
    # Resolving twice is a conflict, not a second rating prompt.
    assert json_post(alice, f"/agent/handoffs/{handoff_id}/resolve", token).status_code == 409


def test_resolve_still_works_when_rasa_is_down(alice: FlaskClient, service: HandoffService) -> None:
    handoff_id, conversation = new_handoff(service)
    token = token_of(alice)
    assert json_post(alice, f"/agent/handoffs/{handoff_id}/claim", token).status_code == 200
    response = json_post(alice, f"/agent/handoffs/{handoff_id}/resolve", token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["rating_prompt"] is False and "could not be reached" in body["warning"]
    assert service.messages.mode(conversation) == "bot"
    # The form (no-JS) path shows the warning after the redirect.
    other, _ = new_handoff(service)
    assert json_post(alice, f"/agent/handoffs/{other}/claim", token).status_code == 200
    page = alice.post(f"/agent/handoffs/{other}/resolve", data={"csrf_token": token}, follow_redirects=True)
    assert "could not be reached" in page.get_data(as_text=True)


def test_verified_order_and_the_customers_earlier_handoffs_are_shown(
    alice: FlaskClient, service: HandoffService
) -> None:
    from datetime import date

    from bot.shop.models import Customer, Order, OrderItem

    number = f"{secrets.randbelow(900000) + 100000}"
    with session_scope(service.url) as db:
        customer = Customer(email=f"eva{number}@example.com", name="Eva Kováčová", language="sk")
        order = Order(
            number=number,
            customer=customer,
            status="shipped",
            carrier="GLS",
            tracking_number="GLS123",
            ordered_at=date(2024, 5, 2),
        )
        order.items.append(
            OrderItem(
                sku="KT-220",
                name="Electric kettle Voltik",
                category="kitchen",
                quantity=1,
                unit_price_cents=3990,
            )
        )
        db.add(order)
    earlier, _ = new_handoff(service, "my kettle is late", verified_order=number)
    later, _ = new_handoff(service, "still no kettle", verified_order=number)
    page = alice.get(f"/agent/handoffs/{later}").get_data(as_text=True)
    assert number in page and "shipped" in page and "GLS123" in page
    assert "Electric kettle Voltik" in page and "39.90" in page
    assert f"eva{number}@example.com" in page  # known by the verified order's email
    assert f'href="/agent/handoffs/{earlier}"' in page and "my kettle is late" in page


def test_console_language_is_chosen_per_agent_and_remembered(app: Flask) -> None:
    client = app.test_client()
    login(client, "bob")
    token = token_of(client)
    english = client.get("/agent/").get_data(as_text=True)
    assert '<html lang="en">' in english and "My conversations" in english
    assert json_post(client, "/agent/locale", token, {"locale": "xx"}).status_code == 400
    assert json_post(client, "/agent/locale", token, {"locale": "sk"}).status_code == 200
    slovak = client.get("/agent/").get_data(as_text=True)
    assert '<html lang="sk">' in slovak and "Moje rozhovory" in slovak and "My conversations" not in slovak
    # Remembered on the agent: a new login in another browser (English preference) stays Slovak.
    other = app.test_client()
    login(other, "bob")
    again = other.get("/agent/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "Moje rozhovory" in again
    # Before choosing, the browser's preference decides (the login page in Hungarian).
    assert "Ügyintézői bejelentkezés" in app.test_client().get(
        "/agent/login", headers={"Accept-Language": "hu-HU,hu;q=0.9"}
    ).get_data(as_text=True)
    json_post(other, "/agent/locale", token_of(other), {"locale": "en"})
