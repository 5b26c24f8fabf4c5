"""Attachments over HTTP: the widget's and the console's uploads, serving, hostile files, notices.

A real gateway app (Flask test client) on a real SQLite database; Rasa is "down" (nothing
listens), which the bot-mode upload does not need: an attachment never goes to the bot.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.handoff.service import HandoffService
from tests.conftest import agent_id_of, build_console_app
from tests.support import files
from tests.test_agent_console import PASSWORD, login, new_handoff, token_of


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("attachments_web")
    application = build_console_app(tmp, ("alice", "bob"), PASSWORD)
    yield application
    application.extensions["services"].close()


@pytest.fixture()
def service(app: Flask) -> HandoffService:
    return app.extensions["handoff"]


@pytest.fixture()
def customer(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def alice(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "alice")[0].status_code == 303
    return client


def stored_count(app: Flask, conversation: str | None = None) -> int:
    return app.extensions["services"].attachments.count(conversation)


def new_session(customer: FlaskClient) -> str:
    return customer.post("/api/session").get_json()["session_id"]


def upload(customer: FlaskClient, session_id: str, data: bytes, name: str, **extra: str):
    form = {"session_id": session_id, "file": (io.BytesIO(data), name), **extra}
    return customer.post("/api/attachments", data=form, content_type="multipart/form-data")


def agent_upload(agent: FlaskClient, handoff_id: int, data: bytes, name: str, token: str | None):
    headers = {"Accept": "application/json", **({"X-CSRFToken": token} if token else {})}
    return agent.post(
        f"/agent/handoffs/{handoff_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


# --- the customer's side ----------------------------------------------------------------------
def test_a_photo_outside_a_handoff_gets_an_honest_answer_and_an_offer_of_a_person(
    customer: FlaskClient, app: Flask
) -> None:
    session_id = new_session(customer)
    response = upload(customer, session_id, files.jpeg_with_exif(), "kettle.jpg", client_id="up-1")
    assert response.status_code == 200, response.get_json()
    own, reply = response.get_json()["messages"]
    assert own["sender"] == "customer" and own["attachment"]["kind"] == "image"
    assert reply["sender"] == "bot" and "can't look at photos" in reply["text"]
    assert reply["buttons"] == [{"title": "Yes, a person please", "payload": "/request_human"}]
    # The button is open, so pressing it reaches the bot as the command it is.
    assert "/request_human" in app.extensions["services"].messages.open_payloads(session_id)
    again = upload(customer, session_id, files.jpeg_with_exif(), "kettle.jpg", client_id="up-1")
    assert [m["id"] for m in again.get_json()["messages"]][:1] == [own["id"]]
    assert stored_count(app, session_id) == 1  # a retried upload is not stored twice


def test_the_bot_answers_a_file_in_the_widget_language_until_the_customer_writes(
    customer: FlaskClient, app: Flask
) -> None:
    session_id = new_session(customer)
    first = upload(customer, session_id, files.png(), "a.png", lang="hu").get_json()["messages"][1]
    assert first["text"].startswith("Köszönöm, a fájl el van mentve")
    assert first["buttons"][0]["title"] == "Igen, munkatársat kérek"
    log = app.extensions["services"].messages
    log.record(session_id, "customer", "Здравствуйте", language="ru")  # now their own words decide
    second = upload(customer, session_id, files.png(), "a.png", lang="hu").get_json()["messages"][1]
    assert second["text"].startswith("Спасибо, файл сохранён")
    odd = upload(customer, new_session(customer), files.png(), "a.png", lang="<script>").get_json()
    assert odd["messages"][1]["text"].startswith("Thank you, your file is saved")


def test_the_customer_gets_their_file_back_with_safe_headers_and_nobody_else_does(
    customer: FlaskClient, app: Flask
) -> None:
    session_id = new_session(customer)
    token = upload(customer, session_id, files.png(), "a.png").get_json()["messages"][0]["attachment"]["token"]
    served = customer.get(f"/api/attachments/{token}?session_id={session_id}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert "no-store" in served.headers["Cache-Control"]
    other = new_session(customer)
    assert customer.get(f"/api/attachments/{token}?session_id={other}").status_code == 404
    assert customer.get(f"/api/attachments/{token}").status_code == 400
    assert customer.get(f"/api/attachments/{token[:-2]}xx?session_id={session_id}").status_code == 404
    assert customer.get(f"/agent/attachments/{token}").status_code in (302, 303)  # agents sign in first


@pytest.mark.parametrize(
    ("data", "name", "status", "words"),
    [
        (files.SVG_WITH_SCRIPT, "cat.svg", 415, "only photos"),
        (files.HTML_AS_PNG, "photo.png", 415, "only photos"),
        (files.zip_bomb(100), "photos.zip", 415, "only photos"),
        (files.real_pixel_bomb(), "huge.png", 422, "too many pixels"),
        (files.pdf(javascript="app.alert(1)"), "invoice.pdf", 415, "scripts"),
        (b"", "empty.png", 400, "empty"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_message_and_nothing_stored(
    customer: FlaskClient, app: Flask, data: bytes, name: str, status: int, words: str
) -> None:
    session_id = new_session(customer)
    response = upload(customer, session_id, data, name)
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert stored_count(app, session_id) == 0
    assert app.extensions["services"].messages.after(session_id) == []


def test_a_50_mb_file_is_refused_before_it_is_read(customer: FlaskClient, app: Flask) -> None:
    session_id = new_session(customer)
    response = upload(customer, session_id, b"\xff\xd8\xff" + bytes(50 * 1024 * 1024), "big.jpg")
    assert response.status_code == 413
    assert response.get_json() == {"error": "the file is too large (at most 10 MB)", "reason": "too_large"}
    assert stored_count(app, session_id) == 0


def test_other_requests_keep_their_small_body_limit(customer: FlaskClient) -> None:
    session_id = new_session(customer)
    big = customer.post("/api/chat", json={"session_id": session_id, "text": "x" * 100_000})
    assert big.status_code == 413


def test_uploads_are_rate_limited_per_conversation(customer: FlaskClient, app: Flask) -> None:
    session_id = new_session(customer)
    limit = app.extensions["settings"].attachments.uploads_per_minute
    statuses = [upload(customer, session_id, files.png(), "a.png").status_code for _ in range(limit + 1)]
    assert statuses == [200] * limit + [429]


def test_an_unknown_session_cannot_upload(customer: FlaskClient, app: Flask) -> None:
    before = stored_count(app)
    assert upload(customer, "x" * 32, files.png(), "a.png").status_code == 404
    assert upload(customer, "bad", files.png(), "a.png").status_code == 400
    assert stored_count(app) == before


# --- a handoff: the customer's photo reaches the agent; the agent's PDF reaches the customer ------
def test_photo_to_the_agent_and_pdf_to_the_customer(
    customer: FlaskClient, alice: FlaskClient, app: Flask, service: HandoffService
) -> None:
    handoff_id, conversation = new_handoff(service)
    token = token_of(alice)
    assert agent_upload(alice, handoff_id, files.pdf(), "label.pdf", token).status_code == 409  # claim first
    alice.post(f"/agent/handoffs/{handoff_id}/claim", headers={"X-CSRFToken": token, "Accept": "application/json"})

    photo = upload(customer, conversation, files.jpeg_with_exif(), "broken kettle.jpg")
    assert [m["sender"] for m in photo.get_json()["messages"]] == ["customer"]  # no bot in a handoff
    photo_token = photo.get_json()["messages"][0]["attachment"]["token"]
    mine = alice.get("/agent/queue.json").get_json()["mine"]
    assert [h["preview"] for h in mine if h["id"] == handoff_id] == ["📎 broken kettle.jpg"]
    page = alice.get(f"/agent/handoffs/{handoff_id}").get_data(as_text=True)
    assert photo_token in page  # the timeline carries the attachment
    seen = alice.get(f"/agent/attachments/{photo_token}")
    assert seen.status_code == 200 and seen.mimetype == "image/jpeg" and b"SecretCam" not in seen.data

    assert agent_upload(alice, handoff_id, files.pdf(), "label.pdf", None).status_code == 400  # CSRF
    sent = agent_upload(alice, handoff_id, files.pdf(), "return label.pdf", token)
    assert sent.status_code == 200, sent.get_json()
    message = sent.get_json()["message"]
    assert (message["sender"], message["agent_name"], message["attachment"]["name"]) == (
        "agent",
        "Alice",
        "return label.pdf",
    )
    history = customer.get(f"/api/messages?session_id={conversation}").get_json()["messages"]
    pdf = history[-1]["attachment"]
    download = customer.get(f"/api/attachments/{pdf['token']}?session_id={conversation}")
    assert download.mimetype == "application/pdf" and download.data == files.pdf()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert agent_upload(alice, handoff_id, files.SVG_WITH_SCRIPT, "x.svg", token).status_code == 415


def test_the_customer_is_told_who_joins_passes_the_chat_on_and_leaves(
    alice: FlaskClient, app: Flask, service: HandoffService
) -> None:
    handoff_id, conversation = new_handoff(service)
    log = app.extensions["services"].messages
    log.record(conversation, "customer", "Chcem hovoriť s človekom", language="sk")  # the customer's language
    headers = {"X-CSRFToken": token_of(alice), "Accept": "application/json"}
    alice.post(f"/agent/handoffs/{handoff_id}/claim", headers=headers)
    bob = agent_id_of(service.url, "bob")
    alice.post(f"/agent/handoffs/{handoff_id}/transfer", json={"to": str(bob)}, headers=headers)
    service.transfer(handoff_id, bob, None, "")
    service.claim(handoff_id, agent_id_of(service.url, "alice"))
    alice.post(f"/agent/handoffs/{handoff_id}/resolve", headers=headers)
    notices = [(m["notice"], m["text"]) for m in log.after(conversation) if m["sender"] == "system"]
    assert notices == [
        ({"kind": "joined", "agent_name": "Alice"}, "Do chatu sa pripojil člen nášho tímu: Alice."),
        ({"kind": "transferred", "agent_name": "Bob"}, "Váš chat prevzal kolega: teraz vám pomáha Bob."),
        ({"kind": "queued", "agent_name": None}, "Váš chat je opäť v poradí: prevezme ho ďalší voľný kolega."),
        ({"kind": "joined", "agent_name": "Alice"}, "Do chatu sa pripojil člen nášho tímu: Alice."),
        ({"kind": "left", "agent_name": "Alice"}, "Alice už nie je v chate. Ďalej vám pomôže virtuálny asistent."),
    ]


def test_a_customer_whose_agent_is_disabled_is_told_the_chat_is_back_in_the_queue(
    app: Flask, service: HandoffService
) -> None:
    from bot.handoff import agents

    agents.upsert_agent(service.url, "sue", PASSWORD, "Sue", role="supervisor")
    agents.upsert_agent(service.url, "gina", PASSWORD, "Gina")
    handoff_id, conversation = new_handoff(service)
    service.claim(handoff_id, agent_id_of(service.url, "gina"))
    sue = app.test_client()
    assert login(sue, "sue")[0].status_code == 303
    disabled = sue.post(
        f"/agent/team/{agent_id_of(service.url, 'gina')}/disable",
        data={"disabled": "1", "csrf_token": token_of(sue)},
    )
    assert disabled.status_code == 303
    notices = [m["notice"] for m in app.extensions["services"].messages.after(conversation) if m["notice"]]
    assert notices == [{"kind": "joined", "agent_name": "Gina"}, {"kind": "queued", "agent_name": None}]


def test_an_agent_cannot_send_a_file_into_a_channel_that_carries_text_only(
    alice: FlaskClient, app: Flask, service: HandoffService
) -> None:
    from sqlalchemy import update

    from bot.db import session_scope
    from bot.messages.models import Conversation

    handoff_id, conversation = new_handoff(service)
    with session_scope(service.url) as db:
        db.execute(update(Conversation).where(Conversation.id == conversation).values(channel="telegram"))
    service.claim(handoff_id, agent_id_of(service.url, "alice"))
    refused = agent_upload(alice, handoff_id, files.pdf(), "label.pdf", token_of(alice))
    assert refused.status_code == 409 and "telegram" in refused.get_json()["error"]
    assert stored_count(app, conversation) == 0
