"""Handoff flooding: one client address or one session can open only so many handoffs."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.handoff import ActionHandoff
from bot import composition
from bot.composition import get_settings
from bot.db import session_scope
from bot.handoff.limits import WINDOW, HandoffLimiter
from bot.handoff.models import Handoff
from tests.unit.test_actions import responses


def ask_for_person(sender: str, client: str | None) -> list[str]:
    message = {"text": "I want a person", "intent": {"name": "request_human", "confidence": 1.0}}
    if client:
        message["metadata"] = {"client_ip": client}
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(
        dispatcher, Tracker(sender, {"language": "en"}, message, [], False, None, {}, "action_listen"), {}
    )
    return responses(dispatcher)


def handoffs() -> int:
    with session_scope(composition.database_url()) as session:
        return session.scalar(select(func.count()).select_from(Handoff))


@pytest.fixture()
def limits(mail_env):  # with a mail server: the offline answer collects an address for a reply
    return get_settings().limits


def test_one_address_opening_new_sessions_is_stopped(limits) -> None:
    for _ in range(limits.handoffs_per_client_per_hour):
        assert ask_for_person(secrets.token_urlsafe(24), "203.0.113.50") == ["utter_handoff_offline"]
    assert ask_for_person(secrets.token_urlsafe(24), "203.0.113.50") == ["utter_handoff_rate_limited"]
    assert handoffs() == limits.handoffs_per_client_per_hour
    # Someone else is still served.
    assert ask_for_person(secrets.token_urlsafe(24), "203.0.113.51") == ["utter_handoff_offline"]


def test_one_session_asking_again_and_again_is_stopped(limits) -> None:
    sender = secrets.token_urlsafe(24)
    for _ in range(limits.handoffs_per_session_per_hour):
        assert ask_for_person(sender, None) == ["utter_handoff_offline"]
    assert ask_for_person(sender, None) == ["utter_handoff_rate_limited"]
    assert handoffs() == limits.handoffs_per_session_per_hour


def test_asking_again_while_a_handoff_is_open_is_not_a_new_one(limits) -> None:
    from bot.handoff.agents import authenticate, set_presence, upsert_agent

    url = composition.database_url()
    upsert_agent(url, "eva", "correct horse battery")
    set_presence(url, authenticate(url, "eva", "correct horse battery").id, "online")  # a live queue
    sender = secrets.token_urlsafe(24)
    for _ in range(limits.handoffs_per_session_per_hour + 2):
        assert ask_for_person(sender, "203.0.113.60") == ["utter_handoff"]
    assert handoffs() == 1


def test_the_limit_lifts_after_the_window(app_env) -> None:
    limiter = HandoffLimiter(composition.database_url(), b"k", per_client=1, per_session=5)
    then = datetime.utcnow() - WINDOW - timedelta(seconds=1)
    assert limiter.allow("a" * 30, "192.0.2.1", now=then)
    assert limiter.allow("b" * 30, "192.0.2.1")  # the first one has left the window
    assert not limiter.allow("c" * 30, "192.0.2.1")
