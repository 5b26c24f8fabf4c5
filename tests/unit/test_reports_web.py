"""Supervisor pages, FAQ feedback API and /metrics through Flask's test client on real SQLite."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.analytics.events import FAQ_FEEDBACK
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.handoff import agents
from bot.handoff.models import Agent
from bot.web import create_app
from tests.conftest import build_test_services
from tests.support import stack as stack_support

PASSWORD = "correct horse battery"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("reports_web")
    services = build_test_services(
        tmp,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{stack_support.free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{stack_support.free_port()}",
    )
    application = create_app(services)
    agents.upsert_agent(services.database_url, "sam", PASSWORD, "Sam Supervisor", role="supervisor")
    agents.upsert_agent(services.database_url, "alex", PASSWORD, "Alex Agent")
    yield application
    services.close()


def login(client: FlaskClient, username: str) -> int:
    page = client.get("/agent/login")
    token = FORM_TOKEN.search(page.get_data(as_text=True)).group(1)
    return client.post(
        "/agent/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    ).status_code


def token_of(client: FlaskClient, path: str = "/agent/team") -> str:
    return FORM_TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture()
def supervisor(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "sam") == 303
    return client


@pytest.fixture()
def agent(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client, "alex") == 303
    return client


def test_an_agent_cannot_see_reports_gaps_or_team(agent: FlaskClient) -> None:
    for path in ("/agent/reports", "/agent/gaps", "/agent/team"):
        assert agent.get(path).status_code == 403
    assert agent.get("/agent/reports.json").status_code == 403
    assert agent.get("/agent/reports.csv").status_code == 403
    assert b"nav-reports" not in agent.get("/agent/").data


def test_logged_out_visitors_are_sent_to_the_login(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/agent/reports")
    assert response.status_code == 302 and "/agent/login" in response.headers["Location"]
    assert client.get("/agent/reports.json").status_code == 401


def test_supervisor_sees_the_report_and_its_csv(supervisor: FlaskClient) -> None:
    page = supervisor.get("/agent/reports?start=2026-11-01&end=2026-11-07")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="fig-conversations">0<' in html
    assert "Share of those conversations that never reached a person" in html
    assert "<script>" not in html  # CSP: data block only, no inline script
    exported = supervisor.get("/agent/reports.csv?start=2026-11-01&end=2026-11-07")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["scope", "figure", "value"]
    assert ["overall", "conversations", "0"] in rows


def test_bad_date_ranges_are_refused(supervisor: FlaskClient) -> None:
    assert supervisor.get("/agent/reports.json?start=yesterday").status_code == 400
    assert supervisor.get("/agent/reports.json?start=2026-11-08&end=2026-11-01").status_code == 400
    assert supervisor.get("/agent/reports.json?start=2020-01-01&end=2026-01-01").status_code == 400


def test_supervisor_adds_disables_and_resets_an_agent(app: Flask, supervisor: FlaskClient) -> None:
    token = token_of(supervisor)
    added = supervisor.post(
        "/agent/team",
        data={
            "username": "newbie",
            "display_name": "New Bie",
            "role": "agent",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert added.status_code == 303
    taken = supervisor.post(
        "/agent/team", data={"username": "newbie", "role": "agent", "password": PASSWORD, "csrf_token": token}
    )
    assert taken.status_code == 400
    no_csrf = supervisor.post("/agent/team", data={"username": "x2", "role": "agent", "password": PASSWORD})
    assert no_csrf.status_code == 400
    url = app.extensions["services"].database_url
    with session_scope(url) as session:
        newbie = session.execute(select(Agent).where(Agent.username == "newbie")).scalar_one()
    newbie_client = app.test_client()
    assert login(newbie_client, "newbie") == 303
    supervisor.post(f"/agent/team/{newbie.id}/disable", data={"disabled": "1", "csrf_token": token})
    assert newbie_client.get("/agent/").status_code == 302  # the open session ends at once
    assert login(app.test_client(), "newbie") == 401
    supervisor.post(f"/agent/team/{newbie.id}/disable", data={"disabled": "0", "csrf_token": token})
    supervisor.post(
        f"/agent/team/{newbie.id}/password", data={"password": "another long secret", "csrf_token": token}
    )
    assert agents.authenticate(url, "newbie", "another long secret") is not None
    assert agents.authenticate(url, "newbie", PASSWORD) is None


def test_an_agent_cannot_manage_the_team(app: Flask, agent: FlaskClient) -> None:
    token = token_of(agent, "/agent/")
    response = agent.post(
        "/agent/team",
        data={"username": "sneaky", "role": "supervisor", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 403
    assert "sneaky" not in [
        a["username"] for a in agents.list_agents(app.extensions["services"].database_url)
    ]


def _faq_answer(app: Flask) -> tuple[str, int]:
    log = app.extensions["services"].messages
    session_id = log.open_session("en")
    log.record(session_id, "customer", "how much is delivery?")
    answer, _ = log.record(
        session_id, "bot", "Delivery costs...", meta={"faq_id": "shipping_options", "language": "en"}
    )
    return session_id, answer["id"]


def test_faq_answers_carry_their_entry_and_take_a_vote(app: Flask) -> None:
    client = app.test_client()
    session_id, message_id = _faq_answer(app)
    history = client.get(f"/api/messages?session_id={session_id}").get_json()["messages"]
    assert history[-1]["faq_id"] == "shipping_options" and history[0]["faq_id"] is None
    up = client.post(
        "/api/faq-feedback", json={"session_id": session_id, "message_id": message_id, "helpful": True}
    )
    assert up.status_code == 200
    down = client.post(
        "/api/faq-feedback",
        json={
            "session_id": session_id,
            "message_id": message_id,
            "helpful": False,
            "comment": "nothing about Saturday, my card is 4111 1111 1111 1111",
        },
    )
    assert down.status_code == 200
    with session_scope(app.extensions["services"].database_url) as session:
        votes = (
            session.execute(
                select(AnalyticsEvent).where(
                    AnalyticsEvent.kind == FAQ_FEEDBACK, AnalyticsEvent.message_id == message_id
                )
            )
            .scalars()
            .all()
        )
        assert len(votes) == 1  # the second vote replaced the first
        assert votes[0].value == -1 and votes[0].text == "how much is delivery?"
        assert "4111" not in votes[0].comment and "[card number removed]" in votes[0].comment


@pytest.mark.parametrize(
    "body, with_session, status",
    [
        ({"message_id": 1, "helpful": True}, False, 400),
        ({"message_id": "1", "helpful": True}, True, 400),
        ({"message_id": True, "helpful": True}, True, 400),
        ({"message_id": 1, "helpful": "yes"}, True, 400),
        ({"message_id": 1, "helpful": False, "comment": "x" * 501}, True, 400),
        ({"message_id": 999999, "helpful": True}, True, 404),
    ],
)
def test_bad_feedback_is_refused(app: Flask, body: dict, with_session: bool, status: int) -> None:
    session_id, _ = _faq_answer(app)
    payload = {"session_id": session_id, **body} if with_session else body
    assert app.test_client().post("/api/faq-feedback", json=payload).status_code == status


def test_feedback_is_rate_limited(app: Flask) -> None:
    client = app.test_client()
    session_id, message_id = _faq_answer(app)
    codes = [
        client.post(
            "/api/faq-feedback",
            json={"session_id": session_id, "message_id": message_id, "helpful": bool(i % 2)},
        ).status_code
        for i in range(25)
    ]
    assert codes[:20] == [200] * 20 and codes[-1] == 429


def test_a_vote_on_someone_elses_answer_is_refused(app: Flask) -> None:
    client = app.test_client()
    _, message_id = _faq_answer(app)
    other, _ = _faq_answer(app)
    response = client.post(
        "/api/faq-feedback", json={"session_id": other, "message_id": message_id, "helpful": False}
    )
    assert response.status_code == 404


def test_metrics_are_local_only_by_default(app: Flask) -> None:
    client = app.test_client()
    local = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200
    text = local.get_data(as_text=True)
    assert "support_handoff_queue_length" in text and "support_message_latency_seconds" in text
    assert 'support_handoffs_open{status="queued"}' in text
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    forwarded = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert forwarded.status_code == 403


def test_metrics_with_a_token(tmp_path: Path) -> None:
    services = build_test_services(tmp_path, METRICS_TOKEN="scrape-secret-123")
    client = create_app(services).test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    services.handoff.start(services.messages.open_session("en"), "customer_request", "en", {})
    services.handoff.start(services.messages.open_session("sk"), "angry_customer", "sk", {})
    right = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer scrape-secret-123"})
    assert right.status_code == 200
    text = right.get_data(as_text=True)
    # Nobody is online in this test, so both became email tickets.
    assert 'support_handoffs_total{reason="customer_request"} 1.0' in text
    assert 'support_handoffs_total{reason="angry_customer"} 1.0' in text
    assert 'support_handoffs_open{status="ticket"} 2.0' in text
    assert "support_handoff_queue_length 0.0" in text
    assert "support_faq_index_loaded 0.0" in text  # this process has not loaded the FAQ yet
    services.close()


def test_the_report_shows_widget_and_telegram_separately_with_a_total(
    app: Flask, supervisor: FlaskClient
) -> None:
    from datetime import date, timedelta

    from bot.messages.models import Channel

    log = app.extensions["services"].messages
    widget = log.open_session()
    log.record(widget, "customer", "hello from the widget")
    for chat in ("7001", "7002"):
        telegram = log.channel_conversation(Channel.TELEGRAM, chat, timedelta(hours=2))
        log.record(telegram, "customer", "hello from telegram")
    today = date.today().isoformat()
    html = supervisor.get(f"/agent/reports?start={today}&end={today}").get_data(as_text=True)
    table = html[html.index('data-testid="table-channels"') :]

    def conversations(channel: str) -> int:
        row = table[table.index(f'data-channel="{channel}"') :]
        return int(row.split('<td class="num">', 1)[1].split("<", 1)[0])

    # Other tests of this module chatted in the widget today too; Telegram is only this test's.
    assert conversations("telegram") == 2 and conversations("widget") >= 1
    assert conversations("total") == conversations("telegram") + conversations("widget")
    rows = list(
        csv.reader(
            io.StringIO(
                supervisor.get(f"/agent/reports.csv?start={today}&end={today}").get_data(as_text=True)
            )
        )
    )
    assert ["channel:telegram", "conversations", "2"] in rows
