"""Context across flows: nothing asked twice, items by name in four languages, forms that
notice the customer moved on, and the language decided per message. Real Tracker objects,
a real SQLite shop and the real FAQ index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from actions.interruptions import ActionAskEmail, ActionAskOrderNumber
from actions.orders import ValidateOrderStatusForm
from actions.returns import ActionAskReturnItems, ValidateReturnForm, match_items
from bot import composition
from bot.nlu.language import detect_language
from bot.shop.seed import seed_demo_data
from tests.unit.test_actions import latest_handoff, responses, run_async, slot_events

DOMAIN: dict[str, Any] = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text("utf-8"))
ANNA = {"verified_order": "482913", "verified_email": "anna.kovacova@example.sk"}


@pytest.fixture()
def shop(app_env) -> None:
    seed_demo_data(composition.database_url())


def track(
    slots: dict | None = None,
    text: str = "",
    intent: str = "inform",
    events: list | None = None,
    loop: str | None = None,
) -> Tracker:
    base = {"language": "en", "verification_failures": 0.0, "requested_slot": None}
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    active = {"name": loop} if loop else {}
    return Tracker(
        "session-context-00000000001",
        {**base, **(slots or {})},
        message,
        events or [],
        False,
        None,
        active,
        "action_listen",
    )


def user(intent: str, text: str = "...") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_a_return_after_a_status_check_asks_for_nothing_it_was_told(shop: None) -> None:
    tracker = track({**ANNA, "language": "sk"}, "chcem vrátiť kanvicu", "return_request", loop="return_form")
    events = run_async(ValidateReturnForm().run(CollectingDispatcher(), tracker, DOMAIN))
    slots = slot_events(events)
    assert slots["order_number"] == "482913"
    assert slots["email"] == "anna.kovacova@example.sk"
    assert slots["return_items"] == "KT-220"  # "kanvicu" is the kettle on the order
    assert "return_reason" not in slots  # the only thing left to ask


def test_a_second_question_about_the_same_order_is_answered_straight_away(shop: None) -> None:
    tracker = track(ANNA, "and when will it arrive?", "order_status", loop="order_status_form")
    events = run_async(ValidateOrderStatusForm().run(CollectingDispatcher(), tracker, DOMAIN))
    slots = slot_events(events)
    assert slots["order_number"] == "482913" and slots["email"] == ANNA["verified_email"]
    assert slots.get("requested_slot") is None


def test_another_customers_order_still_needs_its_own_email(shop: None) -> None:
    tracker = track(
        {**ANNA, "order_number": "593011"}, "where is order 593011", "order_status", loop="order_status_form"
    )
    events = run_async(ValidateOrderStatusForm().run(CollectingDispatcher(), tracker, DOMAIN))
    slots = slot_events(events)
    assert slots.get("email") is None  # Anna's verified email is not on Peter's order
    assert slots.get("order_number", "593011") == "593011"  # and the order asked about stays


def test_an_offline_handoff_after_verification_does_not_ask_for_the_email(mail_env) -> None:
    seed_demo_data(composition.database_url())  # with a mail server: an email reply can be promised
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, track(ANNA, "talk to a person", "request_human"), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_offline_known_email"]
    assert not any(e.get("event") == "followup" for e in events)
    assert latest_handoff("session-context-00000000001").contact_email == ANNA["verified_email"]


@pytest.mark.parametrize(
    ("said", "lang", "skus"),
    [
        ("the kettle", "en", ["KT-220"]),
        ("kanvicu", "sk", ["KT-220"]),
        ("rychlovarnu kanvicu prosim", "sk", ["KT-220"]),
        ("чайник", "ru", ["KT-220"]),
        ("верну чайник", "ru", ["KT-220"]),
        ("a vízforralót", "hu", ["KT-220"]),
        ("vizforralo", "hu", ["KT-220"]),
        ("the first one", "en", ["KT-220"]),
        ("obe", "sk", ["KT-220", "EB-310"]),
        ("something else", "en", []),
    ],
)
def test_items_are_found_by_name_synonym_and_position_in_every_language(
    shop: None, said: str, lang: str, skus: list[str]
) -> None:
    order = composition.shop_store().find_verified_order("482913", "anna.kovacova@example.sk")
    assert match_items(said, order, lang) == skus


def test_it_and_the_second_one_refer_to_the_items_on_the_order(shop: None) -> None:
    laptop = composition.shop_store().find_verified_order("617245", "ivan.petrov@example.ru")
    assert match_items("вторую", laptop, "ru") == ["MS-02"]  # the mouse, second as listed
    assert match_items("the second one", laptop, "en") == ["MS-02"]
    coffee = composition.shop_store().find_verified_order("705528", "kiss.eszter@example.hu")
    assert match_items("I want to return it", coffee, "en") == ["CM-700"]  # the only item


def test_return_items_are_offered_with_names_in_the_customers_language(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"order_number": "482913", "email": "anna.kovacova@example.sk", "verified_order": "482913", "language": "hu"}
    ActionAskReturnItems().run(dispatcher, track(slots), DOMAIN)
    note, message = dispatcher.messages  # first: the earbuds cannot be returned, and why
    assert "higiéniai" in note["items"]
    assert [b["title"] for b in message["buttons"]] == ["Vízforraló Voltik 1,7 l"]


def test_a_form_interrupted_twice_asks_whether_to_continue(shop: None) -> None:
    started = {"event": "active_loop", "name": "return_form"}
    once = [started, user("return_request"), user("faq")]
    dispatcher = CollectingDispatcher()
    ActionAskOrderNumber().run(dispatcher, track(events=once), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_order_number"]  # one question in between: ask again
    twice = [*once, user("out_of_scope")]
    dispatcher = CollectingDispatcher()
    ActionAskOrderNumber().run(dispatcher, track(events=twice), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_continue_form"]
    assert dispatcher.messages[0]["needed"] == "your order number"
    # "yes" resumes: the form's own question again.
    resumed = [*twice, user("affirm"), {"event": "slot", "name": "form_resumed", "value": True}]
    dispatcher = CollectingDispatcher()
    ActionAskOrderNumber().run(dispatcher, track(events=resumed), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_order_number"]


def test_thanks_in_the_middle_of_a_form_stops_the_re_asking(shop: None) -> None:
    events = [{"event": "active_loop", "name": "return_form"}, user("return_request"), user("thanks")]
    dispatcher = CollectingDispatcher()
    ActionAskEmail().run(dispatcher, track({"language": "sk"}, events=events), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_continue_form"]
    assert dispatcher.messages[0]["needed"] == "e-mailovú adresu z objednávky"


def test_a_yes_to_carry_on_is_not_rejected_by_the_form(shop: None) -> None:
    tracker = track(text="yes", intent="affirm", loop="return_form")
    events = run_async(ValidateReturnForm().run(CollectingDispatcher(), tracker, DOMAIN))
    assert slot_events(events)["form_resumed"] is True


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("thanks, and the refund?", "en"),
        ("what about refunds", "en"),
        ("where is it", "en"),
        ("ďakujem", "sk"),
        ("kde je", "sk"),
        ("hol van", "hu"),
        ("спасибо", "ru"),
        ("хочу вернуть чайник", "ru"),  # scores as Ukrainian, but has no Ukrainian letters
        ("ok", None),  # says nothing about the language: the conversation's stays
        ("2", None),
        ("anna.kovacova@example.sk", None),
    ],
)
def test_language_is_decided_per_message_with_a_rule_for_short_ones(text: str, lang: str | None) -> None:
    detection = detect_language(text)
    assert (detection.reply_language if detection else None) == lang
