"""The cancellation, vague-problem, follow-up and returns logic, action by action, on a real
SQLite shop (the multi-turn versions on the real stack: tests/e2e/test_conversations.py)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.cancellation import ActionCancelOrder, ValidateCancelOrderForm
from actions.followup import FaqContext, answered_last_turn, refers_back
from actions.items import has_reason
from actions.returns import ActionAskReturnItems, ValidateReturnForm, match_items
from bot import composition
from bot.problems import ProblemTopic, problem_candidates, sounds_vague, topic_of
from tests.unit.test_actions import DOMAIN, responses, run_async, shop, slot_events, tracker

__all__ = ["shop"]  # the fixture, used by name

IVAN = {"order_number": "617245", "email": "ivan.petrov@example.ru", "verified_order": "617245"}


def status_of(number: str, email: str) -> str:
    return composition.shop_store().find_verified_order(number, email).status


def test_a_processing_order_is_cancelled_only_after_a_yes(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    ActionCancelOrder().run(dispatcher, tracker(IVAN), DOMAIN)
    assert responses(dispatcher) == ["utter_cancel_kept"]
    assert status_of("617245", "ivan.petrov@example.ru") == "processing"

    dispatcher = CollectingDispatcher()
    events = ActionCancelOrder().run(dispatcher, tracker({**IVAN, "cancel_confirmed": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_order_cancelled"]
    assert status_of("617245", "ivan.petrov@example.ru") == "cancelled"
    assert slot_events(events)["verified_order"] == "617245"

    dispatcher = CollectingDispatcher()
    ActionCancelOrder().run(dispatcher, tracker({**IVAN, "cancel_confirmed": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_order_already_cancelled"]


@pytest.mark.parametrize(
    ("number", "email", "said"),
    [
        ("593011", "peter.novak@example.com", "utter_cancel_too_late_shipped"),
        ("482913", "anna.kovacova@example.sk", "utter_cancel_too_late_delivered"),
    ],
)
def test_a_sent_order_is_not_cancelled_and_the_form_asks_nothing_more(
    shop: None, number: str, email: str, said: str
) -> None:
    track = tracker({"order_number": number, "email": email, "verified_order": number})
    required = run_async(
        ValidateCancelOrderForm().required_slots(
            ["order_number", "email", "cancel_confirmed"], CollectingDispatcher(), track, DOMAIN
        )
    )
    assert required == []  # no "shall I cancel it?" for an order that cannot be
    dispatcher = CollectingDispatcher()
    ActionCancelOrder().run(dispatcher, track, DOMAIN)
    assert responses(dispatcher) == [said]
    assert status_of(number, email) != "cancelled"


def test_an_unverified_order_is_never_cancelled(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    forged = {"order_number": "617245", "email": "peter.novak@example.com", "verified_order": "617245"}
    ActionCancelOrder().run(dispatcher, tracker({**forged, "cancel_confirmed": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_verification_failed"]
    assert status_of("617245", "ivan.petrov@example.ru") == "processing"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("something is wrong with my account", ProblemTopic.ACCOUNT),
        ("с личным кабинетом что-то не то", ProblemTopic.ACCOUNT),
        ("nieco nesedi s mojou platbou", ProblemTopic.PAYMENT),
        ("gond van a csomagommal", ProblemTopic.ORDER),
        ("I have a problem", ProblemTopic.UNKNOWN),
    ],
)
def test_a_vague_problem_names_its_topic(text: str, topic: ProblemTopic) -> None:
    assert topic_of(text) is topic
    assert 2 <= len(problem_candidates(text)) <= 3


def test_only_short_messages_about_our_topics_sound_vague() -> None:
    assert sounds_vague("hiba van a fiókommal")
    assert not sounds_vague("my washing machine has a problem")  # not an account, order or payment
    assert not sounds_vague(
        "my card payment failed twice yesterday with an error about 3D secure and now the bank says the money is gone"
    )


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("and for Hungary?", "en", True),
        ("is that free?", "en", True),
        ("а это бесплатно?", "ru", True),
        ("a platí to aj pre notebooky?", "sk", True),
        ("és ez ingyenes?", "hu", True),
        ("how long does delivery to Slovakia take?", "en", False),
        ("what payment methods do you accept for orders shipped abroad to Hungary", "en", False),
    ],
)
def test_a_followup_refers_back(text: str, lang: str, expected: bool) -> None:
    assert refers_back(text, lang) is expected


def test_the_faq_context_counts_only_right_after_an_answer() -> None:
    context = FaqContext("gift_wrapping", "do you wrap gifts?").as_slot()
    answered = [
        {"event": "user", "text": "do you wrap gifts?"},
        {"event": "slot", "name": "faq_context", "value": context},
        {"event": "bot", "text": "Yes..."},
        {"event": "user", "text": "is that free?"},
    ]
    assert answered_last_turn(tracker(events=answered)) == FaqContext("gift_wrapping", "do you wrap gifts?")
    later = [*answered[:3], {"event": "user", "text": "where is my order?"}, {"event": "user", "text": "is it free?"}]
    assert answered_last_turn(tracker(events=later)) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [("it doesn't fit me", "en"), ("не подошёл", "ru"), ("je mi malé", "sk"), ("kicsi", "hu"), ("it", "en")],
)
def test_it_on_an_order_with_one_returnable_item_is_that_item(shop: None, text: str, lang: str) -> None:
    order = composition.shop_store().find_verified_order("482913", "anna.kovacova@example.sk")  # kettle + earbuds
    assert match_items(text, order, lang) == ["KT-220"]


def test_it_with_a_reason_fills_the_item_and_the_reason(shop: None) -> None:
    track = tracker({"order_number": "482913", "email": "anna.kovacova@example.sk", "verified_order": "482913"})
    result = ValidateReturnForm().validate_return_items("je mi malá", CollectingDispatcher(), track, DOMAIN)
    assert result == {"return_items": "KT-220", "return_reason": "je mi malá"}
    assert has_reason("nepáči sa mi to", "sk") and not has_reason("chcem vrátiť kanvicu", "sk")


def test_items_that_cannot_be_returned_are_named_when_the_items_are_asked(shop: None) -> None:
    track = tracker({"order_number": "482913", "email": "anna.kovacova@example.sk", "verified_order": "482913"})
    dispatcher = CollectingDispatcher()
    ActionAskReturnItems().run(dispatcher, track, DOMAIN)
    assert responses(dispatcher) == ["utter_return_not_returnable_items", "utter_ask_return_items"]
    note = dispatcher.messages[0]
    assert "Sonix Buds" in note["items"] and "hygiene" in note["items"]
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["Electric kettle Voltik 1.7 l"]


def test_an_item_and_reason_said_before_verification_are_not_asked_for(shop: None) -> None:
    events = [
        {"event": "user", "text": "is there a warranty on the kettle?", "parse_data": {}},
        {"event": "user", "text": "I'd rather return it, it leaks", "parse_data": {}},
        {"event": "user", "text": "anna.kovacova@example.sk", "parse_data": {}},
        {"event": "slot", "name": "email", "value": "anna.kovacova@example.sk"},  # the mapping's
    ]
    track = tracker(
        {"order_number": "482913", "email": "anna.kovacova@example.sk", "requested_slot": "email"},
        text="anna.kovacova@example.sk",
        events=events,
    )
    dispatcher = CollectingDispatcher()
    domain = {"forms": {"return_form": {"required_slots": ["order_number", "email", "return_items", "return_reason"]}}}
    result = run_async(ValidateReturnForm().get_validation_events(dispatcher, track, domain))
    slots = slot_events(result)
    assert slots.get("verified_order") == "482913", (result, responses(dispatcher))
    assert slots["return_items"] == "KT-220"
    assert slots["return_reason"] == "I'd rather return it, it leaks"
    assert responses(dispatcher) == ["utter_return_not_returnable_items"]
