"""Honest mail: the bot promises a reset link, a return label or an email reply only when a
mail will really be sent, and says plainly (health, start banner, outbox page) when it won't.

Mail that is sent goes to a real SMTP server (aiosmtpd, tests/support/mail.py).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionRequestPasswordReset
from actions.handoff import ActionHandoff
from actions.returns import ActionSubmitReturn
from bot import composition
from bot.db import session_scope
from bot.handoff import agents
from bot.shop.models import OutboxEmail
from bot.shop.seed import seed_demo_data
from tests.conftest import build_test_services
from tests.support.mail import MailServer
from tests.support.stack import free_port
from tests.unit.test_actions import DOMAIN, responses, tracker

RETURN_SLOTS = {
    "order_number": "482913",
    "email": "anna.kovacova@example.sk",
    "verified_order": "482913",
    "return_items": "KT-220",
    "return_reason": "it leaks",
}


def reset(email: str, sender: str = "s" * 30) -> list[str]:
    dispatcher = CollectingDispatcher()
    ActionRequestPasswordReset().run(dispatcher, tracker({"email": email}, sender=sender), DOMAIN)
    return responses(dispatcher)


def submit_return() -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    ActionSubmitReturn().run(dispatcher, tracker(RETURN_SLOTS), DOMAIN)
    [message] = dispatcher.messages
    return message


# --- no mail server: no promise ----------------------------------------------------------
def test_without_smtp_no_reset_link_is_promised_and_the_answer_gives_nothing_away(app_env) -> None:
    seed_demo_data(composition.database_url())
    assert reset("peter.novak@example.com") == reset("nobody@example.com") == ["utter_password_reset_no_mail"]
    for _ in range(5):  # nor does a limit claim that links were "sent recently"
        assert reset("peter.novak@example.com") == ["utter_password_reset_no_mail"]


def test_without_smtp_a_return_is_registered_without_promising_a_label(app_env) -> None:
    seed_demo_data(composition.database_url())
    message = submit_return()
    assert message["response"] == "utter_return_created_no_label" and message["rma"].startswith("RMA-")
    assert submit_return()["response"] == "utter_return_already_exists"


def test_without_smtp_offline_handoff_promises_no_email_reply(app_env) -> None:
    seed_demo_data(composition.database_url())
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker(intent="request_human", sender="h" * 30), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_offline_no_mail"]
    assert not any(e.get("event") == "followup" for e in events)  # no form asking for an address


def test_no_mail_answers_exist_in_four_languages_and_promise_nothing() -> None:
    import yaml

    from tests.support.stack import ROOT

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    promise = re.compile(r"we've (just )?(sent|emailed)|label is in your email|we'll reply by email", re.I)
    for name in (
        "utter_return_created_no_label",
        "utter_password_reset_no_mail",
        "utter_handoff_offline_no_mail",
        "utter_return_already_exists",
        "utter_password_reset_self_service",
    ):
        variants = domain[name]
        languages = {(v.get("condition") or [{}])[0].get("value", "en") for v in variants}
        assert languages == {"en", "ru", "sk", "hu"}, name
        assert not promise.search(variants[0]["text"]), name
    handoff = yaml.safe_load((ROOT / "locales" / "handoff.yml").read_text(encoding="utf-8"))
    assert set(handoff["timed_out_no_mail"]) == {"en", "ru", "sk", "hu"}


# --- with a mail server: the promise is kept ----------------------------------------------
def test_reset_link_arrives_at_the_smtp_server(mail_env, mail_server: MailServer) -> None:
    seed_demo_data(composition.database_url())
    assert reset("Peter.Novak@example.com ") == ["utter_password_reset_sent"]
    mail = mail_server.wait_for(lambda m: m["To"] == "peter.novak@example.com")
    link = re.search(r"https?://\S+reset\?token=([\w-]+)", mail_server.text(mail))
    assert link, mail_server.text(mail)
    assert composition.shop_store().redeem_reset_token(link.group(1))  # the link in the mail works, once
    assert not composition.shop_store().redeem_reset_token(link.group(1))
    assert reset("nobody@example.com") == ["utter_password_reset_sent"]  # same answer, no mail
    assert all(m["To"] != "nobody@example.com" for m in mail_server.messages)


def test_return_label_arrives_at_the_smtp_server_in_the_customers_language(mail_env, mail_server) -> None:
    seed_demo_data(composition.database_url())
    message = submit_return()
    assert message["response"] == "utter_return_created"
    mail = mail_server.wait_for(lambda m: message["rma"] in str(m["Subject"]))
    assert mail["To"] == "anna.kovacova@example.sk"
    body = mail_server.text(mail)
    assert "ŠTÍTOK NA VRÁTENIE" in body and message["rma"] in body and "482913" in body  # Anna writes Slovak
    assert submit_return()["response"] == "utter_return_already_exists"
    assert len([m for m in mail_server.messages if message["rma"] in str(m["Subject"])]) == 1  # one label


# --- health, banner and the development outbox --------------------------------------------
def gateway(tmp_path: Path, **env: str) -> Flask:
    from bot.web import create_app

    tmp_path.mkdir(parents=True, exist_ok=True)
    services = build_test_services(
        tmp_path,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
        **env,
    )
    app = create_app(services)
    agents.upsert_agent(services.database_url, "sam", "correct horse battery", role="supervisor")
    agents.upsert_agent(services.database_url, "alex", "correct horse battery")
    return app


def test_health_says_when_mail_is_not_configured(tmp_path: Path) -> None:
    details = gateway(tmp_path / "a").test_client().get("/health").get_json()
    assert details["mail"]["status"] == "not_configured" and "SMTP_HOST" in details["mail"]["detail"]
    with MailServer() as mail:
        configured = gateway(tmp_path / "b", **mail.env).test_client().get("/health").get_json()
    assert configured["mail"]["status"] == "ok" and configured["mail"]["delivery"] == "smtp"


def test_start_banner_says_when_mail_is_not_configured(tmp_path: Path) -> None:
    from bot.cli.serve import banner

    services = build_test_services(tmp_path, MAIL_DEV_OUTBOX="1")
    assert "NOT configured" in banner(services, 8000)[1] and "/agent/outbox" in banner(services, 8000)[1]
    (tmp_path / "smtp").mkdir()
    with MailServer() as mail:
        assert banner(build_test_services(tmp_path / "smtp", **mail.env), 8000)[1].endswith("sent over SMTP")
    script = (Path(__file__).resolve().parents[2] / "scripts" / "run.sh").read_text()
    assert "NOT configured (SMTP_HOST is not set)" in script  # make run's banner says it too


def login(client: Any, username: str) -> None:
    page = client.get("/agent/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/agent/login", data={"username": username, "password": "correct horse battery", "csrf_token": token}
    )
    assert response.status_code == 303


def test_dev_outbox_shows_mail_to_supervisors_escaped(tmp_path: Path) -> None:
    from bot.shop.mailer import seal

    app = gateway(tmp_path, MAIL_DEV_OUTBOX="1")
    services = app.extensions["services"]
    with session_scope(services.database_url) as session:
        session.add(
            OutboxEmail(
                to_address="eva@example.com",
                subject="<script>alert(1)</script>",
                body=seal(services.secret, "Reset: https://shop.example/reset?token=abc <b>x</b>"),
            )
        )
    supervisor = app.test_client()
    login(supervisor, "sam")
    page = supervisor.get("/agent/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "reset?token=abc" in html and "No mail server is configured" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x" in html
    assert 'data-testid="nav-outbox"' in supervisor.get("/agent/").get_data(as_text=True)
    agent = app.test_client()
    login(agent, "alex")
    assert agent.get("/agent/outbox").status_code == 403  # reset links are not for every agent


def test_no_outbox_page_outside_development(tmp_path: Path) -> None:
    app = gateway(tmp_path)  # production: MAIL_DEV_OUTBOX unset
    client = app.test_client()
    login(client, "sam")
    assert client.get("/agent/outbox").status_code == 404
    with MailServer() as mail:  # and never when mail really leaves
        app = gateway(tmp_path / "smtp", MAIL_DEV_OUTBOX="1", **mail.env)
        client = app.test_client()
        login(client, "sam")
        assert client.get("/agent/outbox").status_code == 404


# --- an order system that does not answer ---------------------------------------------------
def test_an_order_system_that_does_not_answer_is_said_plainly(app_env) -> None:
    from actions.orders import ActionOrderStatus
    from bot.shop.adapters.json_http import JsonHttpStore

    dead = JsonHttpStore(f"http://127.0.0.1:{free_port()}", "secret", retries=1, backoff=0.01)
    app_env.shop = dead
    app_env.verification.store = dead
    slots = {"order_number": "482913", "email": "anna.kovacova@example.sk"}
    dispatcher = CollectingDispatcher()
    events = ActionOrderStatus().run(dispatcher, tracker(slots), DOMAIN)
    assert responses(dispatcher) == ["utter_order_system_unavailable"]
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["email"] is None
    assert reset("anna.kovacova@example.sk") == ["utter_order_system_unavailable"]
    dispatcher = CollectingDispatcher()
    ActionSubmitReturn().run(dispatcher, tracker(RETURN_SLOTS), DOMAIN)
    assert responses(dispatcher) == ["utter_order_system_unavailable"]


def test_without_smtp_an_unclaimed_handoff_promises_no_email_reply(tmp_path: Path) -> None:
    from bot.handoff.tickets import UnclaimedSweep
    from tests.conftest import build_console_app
    from tests.test_console_features import age, queued

    app = build_console_app(tmp_path, ("carol",), "correct horse battery")
    service = app.extensions["handoff"]
    stale, conversation = queued(service)
    age(service, stale, service.settings.unclaimed_timeout_minutes + 1)
    services = app.extensions["services"]
    assert [
        t.handoff_id for t in UnclaimedSweep(service, service.messages, services.mail_delivered).run_once()
    ] == [stale]
    [told] = [m for m in service.messages.after(conversation) if m["sender"] == "system"]
    assert "can't take a message for a reply by email" in told["text"]
    # an address typed now is not taken for an email reply nobody would send
    answer = app.test_client().post(
        "/api/chat", json={"session_id": conversation, "text": "it is jo@example.com"}
    )
    assert all("reply to jo@example.com" not in m["text"] for m in answer.get_json()["messages"])
    services.close()
