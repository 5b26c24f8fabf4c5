"""Order verification: failed checks are counted in the database, per order number,
email, session and client address, whichever path the customer took."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select, update

from actions.common import ActionStopFlow
from actions.orders import ActionOrderStatus, ValidateOrderStatusForm
from actions.returns import ActionSubmitReturn, ValidateReturnForm
from bot import composition
from bot.composition import get_settings
from bot.db import session_scope
from bot.shop.models import VerificationAttempt
from bot.shop.seed import seed_demo_data
from tests.support.stack import ROOT
from tests.unit.test_actions import responses, run_async, slot_events

DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ANNA, ANNAS_ORDER = "anna.kovacova@example.sk", "482913"


@pytest.fixture()
def shop(app_env) -> None:
    seed_demo_data(composition.database_url())


def new_session() -> str:
    return secrets.token_urlsafe(24)


def turn(
    said: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    sender: str | None = None,
    client: str | None = "198.51.100.1",
    form: Any = None,
) -> tuple[dict[str, Any], list[str]]:
    """One customer message inside the form: ``said`` is what Rasa extracted from it."""
    form = form or ValidateOrderStatusForm()
    slots = {"language": "en", **(before or {}), **said}
    events = [{"event": "slot", "name": name, "value": value} for name, value in said.items()]
    message = {"text": " ".join(map(str, said.values())), "intent": {"name": "inform"}, "entities": []}
    if client:
        message["metadata"] = {"client_ip": client}
    track = Tracker(
        sender or new_session(),
        slots,
        message,
        events,
        False,
        None,
        {"name": form.form_name()},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    result = run_async(form.run(dispatcher, track, DOMAIN))
    return slot_events(result), responses(dispatcher)


def attempts_in_database() -> int:
    with session_scope(composition.database_url()) as session:
        return session.scalar(select(func.count()).select_from(VerificationAttempt))


def test_the_right_pair_verifies_and_shows_the_order(shop: None) -> None:
    slots, said = turn({"order_number": ANNAS_ORDER, "email": "Anna.Kovacova@example.sk"})
    assert slots["verified_order"] == ANNAS_ORDER and said == []
    dispatcher = CollectingDispatcher()
    track = Tracker("s" * 30, {"language": "en", **slots}, {}, [], False, None, {}, "action_listen")
    ActionOrderStatus().run(dispatcher, track, DOMAIN)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_status" and message["tracking_number"] == "GLS482913SK"
    assert attempts_in_database() == 0


def test_every_failing_path_counts_against_the_email(shop: None) -> None:
    """Number first, email first, both at once: each from another session and address."""
    # 1. order number, then a wrong email for it
    turn({"order_number": "111111"}, client="198.51.100.11")
    slots, said = turn({"email": ANNA}, before={"order_number": "111111"}, client="198.51.100.11")
    assert said == ["utter_verification_failed"] and slots["email"] is None
    # 2. email first, then a wrong order number: the hole the probe found
    sender = new_session()
    slots, said = turn({"email": ANNA}, sender=sender, client="198.51.100.12")
    assert said == [] and "verified_order" not in slots
    slots, said = turn(
        {"order_number": "222222"}, before={"email": ANNA}, sender=sender, client="198.51.100.12"
    )
    assert said == ["utter_verification_failed"] and slots["order_number"] is None
    # 3. both in one message: counted once, not twice
    turn({"order_number": "333333", "email": ANNA}, client="198.51.100.13")
    assert attempts_in_database() == 3
    # Now even the right pair, from a fresh session and a fresh address, shows nothing.
    slots, said = turn({"order_number": ANNAS_ORDER, "email": ANNA}, client="198.51.100.14")
    assert "verified_order" not in slots
    assert slots.get("requested_slot", "unset") is None  # the form ends; the submit action explains


def test_a_known_order_number_cannot_be_probed_with_emails(shop: None) -> None:
    for n in range(3):
        turn({"order_number": ANNAS_ORDER, "email": f"guess{n}@example.com"}, client=f"198.51.100.{20 + n}")
    slots, _ = turn({"order_number": ANNAS_ORDER, "email": ANNA}, client="198.51.100.30")
    assert "verified_order" not in slots
    dispatcher = CollectingDispatcher()
    track = Tracker(
        new_session(),
        {"language": "en", "order_number": ANNAS_ORDER, "email": ANNA},
        {"metadata": {"client_ip": "198.51.100.30"}},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    events = ActionOrderStatus().run(dispatcher, track, DOMAIN)
    [message] = dispatcher.messages
    assert message["response"] == "utter_verification_locked" and 55 <= message["minutes"] <= 60
    assert slot_events(events)["offered_human"] is True  # "yes" hands over to a person
    assert "tracking_number" not in message


def test_one_client_address_is_limited_across_orders_emails_and_sessions(shop: None) -> None:
    limit = get_settings().verification.max_failures_per_client
    for n in range(limit):
        turn({"order_number": f"{300000 + n}", "email": f"someone{n}@example.com"}, client="203.0.113.9")
    slots, _ = turn({"order_number": ANNAS_ORDER, "email": ANNA}, client="203.0.113.9")
    assert "verified_order" not in slots
    slots, _ = turn({"order_number": ANNAS_ORDER, "email": ANNA}, client="203.0.113.10")
    assert slots["verified_order"] == ANNAS_ORDER  # another address is not punished


def test_stop_and_starting_again_do_not_reset_the_count(shop: None) -> None:
    sender = new_session()
    for n in range(3):  # no client address at all: the session still counts
        turn({"order_number": f"{400000 + n}", "email": f"x{n}@example.com"}, sender=sender, client=None)
        ActionStopFlow().run(CollectingDispatcher(), Tracker(sender, {}, {}, [], False, None, {}, ""), DOMAIN)
    slots, _ = turn({"order_number": ANNAS_ORDER, "email": ANNA}, sender=sender, client=None)
    assert "verified_order" not in slots
    form = ValidateOrderStatusForm()
    track = Tracker(sender, {"language": "en"}, {}, [], False, None, {}, "action_listen")
    assert (
        run_async(form.required_slots(["order_number", "email"], CollectingDispatcher(), track, DOMAIN)) == []
    )


def test_the_lock_ends_when_the_window_has_passed(shop: None) -> None:
    for n in range(3):
        turn({"order_number": ANNAS_ORDER, "email": f"guess{n}@example.com"})
    assert "verified_order" not in turn({"order_number": ANNAS_ORDER, "email": ANNA})[0]
    window = get_settings().verification.window_minutes
    with session_scope(composition.database_url()) as session:
        session.execute(
            update(VerificationAttempt).values(
                created_at=datetime.utcnow() - timedelta(minutes=window, seconds=1)
            )
        )
    assert turn({"order_number": ANNAS_ORDER, "email": ANNA})[0]["verified_order"] == ANNAS_ORDER


def test_slots_set_outside_the_form_are_checked_and_counted(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    track = Tracker(
        new_session(),
        {"language": "en", "order_number": ANNAS_ORDER, "email": "peter.novak@example.com"},
        {},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    ActionOrderStatus().run(dispatcher, track, DOMAIN)
    assert responses(dispatcher) == ["utter_verification_failed"]
    assert attempts_in_database() == 1
    # A return needs the form's own verification; an injected pair is not enough.
    dispatcher = CollectingDispatcher()
    ActionSubmitReturn().run(
        dispatcher,
        Tracker(
            new_session(),
            {"language": "en", "order_number": ANNAS_ORDER, "email": ANNA, "return_items": "KT-220"},
            {},
            [],
            False,
            None,
            {},
            "action_listen",
        ),
        DOMAIN,
    )
    assert responses(dispatcher) == ["utter_verification_failed"]


def test_the_return_form_counts_too(shop: None) -> None:
    for n in range(3):
        turn({"order_number": ANNAS_ORDER, "email": f"r{n}@example.com"}, form=ValidateReturnForm())
    slots, _ = turn({"order_number": ANNAS_ORDER, "email": ANNA}, form=ValidateReturnForm())
    assert "verified_order" not in slots
