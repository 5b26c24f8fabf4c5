"""The customer API on the Flask test client with a real SQLite database (no Rasa needed)."""

from __future__ import annotations

import pytest

from bot.web import create_app
from tests.conftest import build_test_services


@pytest.fixture()
def client(tmp_path):
    services = build_test_services(
        tmp_path,
        ALLOWED_ORIGINS="https://www.shop.example, https://shop.example",
        RASA_URL="http://127.0.0.1:9",  # nothing listens: Rasa is "down"
    )
    yield create_app(services).test_client()
    services.close()


def session_id(client) -> str:
    return client.post("/api/session").get_json()["session_id"]


def test_cors_only_for_allowed_shop_origins(client) -> None:
    allowed = client.options(
        "/api/chat",
        headers={"Origin": "https://www.shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.shop.example"
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    other = client.post("/api/session", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/agent/login", headers={"Origin": "https://www.shop.example"})
    assert "Access-Control-Allow-Origin" not in page.headers  # never for the console


def test_message_is_kept_when_rasa_is_down(client) -> None:
    sid = session_id(client)
    reply = client.post("/api/chat", json={"session_id": sid, "text": "hello", "client_id": "c1"})
    assert reply.status_code == 202
    assert reply.get_json()["status"] == "pending" and "reconnecting" in reply.get_json()["notice"]
    history = client.get(f"/api/messages?session_id={sid}").get_json()["messages"]
    assert [(m["sender"], m["text"]) for m in history] == [("customer", "hello")]
    client.post("/api/chat", json={"session_id": sid, "text": "hello", "client_id": "c1"})
    again = client.get(f"/api/messages?session_id={sid}").get_json()["messages"]
    assert len(again) == 1  # the retry with the same client_id is not stored twice


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("not json", 400, "send JSON"),
        ({"session_id": "short", "text": "hi"}, 400, "session_id"),
        ({"text": "hi"}, 400, "session_id"),
        ({"session_id": "x" * 30, "text": ""}, 400, "empty"),
        ({"session_id": "x" * 30, "text": 42}, 400, "empty"),
        ({"session_id": "x" * 30, "text": "y" * 2001}, 413, "too long"),
        ({"session_id": "x" * 30, "text": "hi", "client_id": "bad id!"}, 400, "client_id"),
    ],
)
def test_bad_input_gets_a_clear_error(client, body, status: int, words: str) -> None:
    if isinstance(body, str):
        response = client.post("/api/chat", data=body, content_type="text/plain")
    else:
        response = client.post("/api/chat", json=body)
    assert response.status_code == status
    assert words in response.get_json()["error"]


def test_only_issued_sessions_are_accepted(client) -> None:
    forged = "A" * 32
    response = client.post("/api/chat", json={"session_id": forged, "text": "hi"})
    assert response.status_code == 404 and "unknown session" in response.get_json()["error"]
    assert client.get(f"/api/messages?session_id={forged}").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["wait=nan", "wait=inf", "wait=-1", "wait=26", "wait=abc", "after=nan", "after=1180591620717411303424", "after=-5"],
)
def test_wait_and_after_must_be_finite_numbers_in_range(client, query: str) -> None:
    sid = session_id(client)
    response = client.get(f"/api/messages?session_id={sid}&{query}")
    assert response.status_code == 400
    assert "must be a number" in response.get_json()["error"]


def test_card_numbers_are_masked_before_storage(client) -> None:
    sid = session_id(client)
    client.post("/api/chat", json={"session_id": sid, "text": "card 4111 1111 1111 1111 exp 12/29"})
    [stored] = client.get(f"/api/messages?session_id={sid}").get_json()["messages"]
    assert "4111" not in stored["text"] and "[card number removed]" in stored["text"]


def test_feedback_needs_a_finished_handoff(client) -> None:
    sid = session_id(client)
    assert client.post("/api/feedback", json={"session_id": sid, "rating": 9}).status_code == 400
    missing = client.post("/api/feedback", json={"session_id": sid, "rating": 5, "comment": "great"})
    assert missing.status_code == 404


def test_security_headers(client) -> None:
    page = client.get("/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
