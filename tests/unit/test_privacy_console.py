"""The console's privacy page: supervisors export or erase one customer's data; agents may not."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.handoff import agents
from bot.privacy import conversation_ref
from bot.web import create_app
from tests.conftest import build_test_services
from tests.support import stack as stack_support
from tests.test_agent_console import FORM_TOKEN, PASSWORD, login

EMAIL = "kiss.eszter@example.hu"


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Flask]:
    services = build_test_services(
        tmp_path,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{stack_support.free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{stack_support.free_port()}",
    )
    application = create_app(services)
    agents.upsert_agent(services.database_url, "sue", PASSWORD, "Sue", role="supervisor")
    agents.upsert_agent(services.database_url, "alice", PASSWORD, "Alice")
    log = services.messages
    session = log.open_session()
    log.record(session, "customer", f"my email is {EMAIL}")
    services.handoff.link_customer(session, EMAIL)
    application.config["test_session"] = session
    yield application
    services.close()


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    response, _ = login(client, username)
    assert response.status_code == 303
    token = (
        FORM_TOKEN.search(client.get("/agent/privacy").get_data(as_text=True) or "")
        if username == "sue"
        else None
    )
    return client, token.group(1) if token else ""


def test_a_supervisor_exports_and_erases_with_confirmation(app: Flask) -> None:
    client, token = signed_in(app, "sue")
    exported = client.post("/agent/privacy/export", data={"email": EMAIL, "csrf_token": token})
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    data = json.loads(exported.get_data(as_text=True))
    assert [c["ref"] for c in data["conversations"]] == [conversation_ref(app.config["test_session"])]
    unconfirmed = client.post(
        "/agent/privacy/erase", data={"email": EMAIL, "confirm": "", "csrf_token": token}
    )
    assert unconfirmed.status_code == 400
    assert app.extensions["services"].privacy.export(EMAIL)["conversations"]  # nothing erased yet
    listed = client.post("/agent/privacy/erase", data={"email": EMAIL, "confirm": EMAIL, "csrf_token": token})
    assert listed.status_code == 200 and conversation_ref(app.config["test_session"]) in listed.get_data(as_text=True)
    assert app.extensions["services"].privacy.export(EMAIL)["conversations"]  # listed, not erased yet
    erased = client.post(
        "/agent/privacy/erase",
        data={
            "email": EMAIL,
            "confirm": EMAIL,
            "erase_listed": "1",
            "ref": conversation_ref(app.config["test_session"]),
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert erased.status_code == 200 and "Erased" in erased.get_data(as_text=True)
    assert app.extensions["services"].privacy.export(EMAIL)["conversations"] == []


def test_agents_and_forged_posts_are_refused(app: Flask) -> None:
    agent, _ = signed_in(app, "alice")
    assert agent.get("/agent/privacy").status_code == 403
    sue, _ = signed_in(app, "sue")
    assert (
        sue.post("/agent/privacy/erase", data={"email": EMAIL, "confirm": EMAIL}).status_code == 400
    )  # no CSRF
    assert app.extensions["services"].privacy.export(EMAIL)["conversations"]
