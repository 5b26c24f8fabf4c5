"""Custom actions against real Tracker objects, a real SQLite shop and the real FAQ index."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.account import ActionRequestPasswordReset, ValidatePasswordResetForm
from actions.common import ActionStopFlow, ActionStoreRating
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandoff
from actions.orders import ActionOrderStatus, ValidateOrderStatusForm
from actions.returns import ActionSubmitReturn, ValidateReturnForm, match_items
from bot import composition
from bot.shop.seed import seed_demo_data
from tests.support.aio import run_async

DOMAIN: dict[str, Any] = {}


def tracker(
    slots: dict | None = None,
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.95,
    events: list | None = None,
    sender: str = "session-under-test-0000000001",
    entities: list | None = None,
) -> Tracker:
    base = {"language": "en"}
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
    }
    return Tracker(sender, {**base, **(slots or {})}, message, events or [], False, None, {}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [
        m.get("response") or (m.get("custom") or {}).get("faq_id") or m.get("text")
        for m in dispatcher.messages
    ]


def slot_events(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture()
def shop(app_env) -> None:
    seed_demo_data(composition.database_url())


@pytest.fixture()
def mailing_shop(mail_env) -> None:
    """The demo shop with a mail server configured: mail is promised only then."""
    seed_demo_data(composition.database_url())


def validate(form, slot: str, value: Any, track: Tracker) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    result = getattr(form, f"validate_{slot}")(value, dispatcher, track, DOMAIN)
    return result, responses(dispatcher)


@pytest.mark.parametrize(
    "value", ["482913' OR '1'='1", "'; DROP TABLE orders; --", "<script>alert(1)</script>", "12345", ""]
)
def test_invalid_order_numbers_are_rejected(shop: None, value: str) -> None:
    result, said = validate(ValidateOrderStatusForm(), "order_number", value, tracker())
    if value.startswith("482913"):
        assert result == {"order_number": "482913"}  # the digits are extracted, the rest ignored
    else:
        assert result == {"order_number": None} and said == ["utter_invalid_order_number"]


def test_order_status_never_answers_unverified_slots(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    ActionOrderStatus().run(
        dispatcher, tracker({"order_number": "482913", "email": "peter.novak@example.com"}), DOMAIN
    )
    assert responses(dispatcher) == ["utter_verification_failed"]


def test_return_flow_creates_one_rma_even_when_submitted_twice(mailing_shop: None) -> None:
    slots = {
        "order_number": "482913",
        "email": "anna.kovacova@example.sk",
        "verified_order": "482913",
        "return_items": "KT-220",
        "return_reason": "it leaks",
    }
    rmas = []
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        ActionSubmitReturn().run(dispatcher, tracker(slots), DOMAIN)
        [message] = dispatcher.messages
        rmas.append((message["response"], message["rma"]))
    assert rmas[0][0] == "utter_return_created" and rmas[1][0] == "utter_return_already_exists"
    assert rmas[0][1] == rmas[1][1]


def test_ineligible_returns_explain_why(shop: None) -> None:
    form = ValidateReturnForm()
    old = tracker({"order_number": "705528", "email": "kiss.eszter@example.hu", "verified_order": "705528"})
    assert (
        run_async(
            form.required_slots(
                ["order_number", "email", "return_items"], CollectingDispatcher(), old, DOMAIN
            )
        )
        == []
    )
    dispatcher = CollectingDispatcher()
    ActionSubmitReturn().run(dispatcher, old, DOMAIN)
    assert responses(dispatcher) == ["utter_return_window_closed"]
    shipped = tracker(
        {"order_number": "593011", "email": "peter.novak@example.com", "verified_order": "593011"}
    )
    dispatcher = CollectingDispatcher()
    ActionSubmitReturn().run(dispatcher, shipped, DOMAIN)
    assert responses(dispatcher) == ["utter_return_not_delivered"]


def test_excluded_item_is_refused_but_the_rest_is_kept(shop: None) -> None:
    track = tracker(
        {"order_number": "482913", "email": "anna.kovacova@example.sk", "verified_order": "482913"}
    )
    result, said = validate(ValidateReturnForm(), "return_items", "both items", track)
    assert result == {"return_items": "KT-220"}
    assert said == ["utter_return_item_excluded"]
    result, said = validate(ValidateReturnForm(), "return_items", "the earbuds", track)
    assert result == {"return_items": None}


def test_item_matching_in_other_languages(shop: None) -> None:
    order = composition.shop_store().find_verified_order("482913", "anna.kovacova@example.sk")
    assert match_items("všetko", order, "sk") == ["KT-220", "EB-310"]
    assert match_items("the kettle please", order, "en") == ["KT-220"]
    assert match_items("something else", order, "en") == []


def test_password_reset_same_reply_for_any_email_and_rate_limited(mailing_shop: None) -> None:
    replies = []
    for email in ["peter.novak@example.com", "nobody@example.com"]:
        dispatcher = CollectingDispatcher()
        events = ActionRequestPasswordReset().run(
            dispatcher, tracker({"email": email}, sender="s" * 30), DOMAIN
        )
        replies.append(responses(dispatcher))
        assert slot_events(events)["email"] is None  # forgotten: not a verified identity
    assert replies == [["utter_password_reset_sent"]] * 2
    for _ in range(3):
        dispatcher = CollectingDispatcher()
        ActionRequestPasswordReset().run(
            dispatcher, tracker({"email": "peter.novak@example.com"}, sender="s" * 30), DOMAIN
        )
    assert responses(dispatcher) == ["utter_password_reset_rate_limited"]


def test_password_reset_email_validation(shop: None) -> None:
    result, said = validate(ValidatePasswordResetForm(), "email", "x' OR 1=1 --", tracker())
    assert result == {"email": None} and said == ["utter_invalid_email"]


def test_faq_answer_in_customers_language(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    track = tracker({"language": "ru"}, text="Сколько дней идёт доставка по Словакии?", intent="faq")
    events = ActionAnswerFaq().run(dispatcher, track, DOMAIN)
    [message] = dispatcher.messages
    assert message["custom"]["faq_id"] == "delivery_time"
    assert any("а" <= ch <= "я" for ch in message["custom"]["text"])  # answered in Russian
    candidates = slot_events(events)["faq_candidates"]
    assert candidates[0]["id"] == "delivery_time" and 0 < candidates[0]["score"] <= 1


def test_out_of_scope_offers_a_person_instead_of_a_random_answer(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFaq().run(
        dispatcher, tracker(text="what's the weather in Vienna tomorrow", intent="out_of_scope"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_out_of_scope"]
    assert slot_events(events)["offered_human"] is True


def test_two_misunderstandings_in_a_row_hand_off(shop: None) -> None:
    fallback = {"event": "user", "text": "blorp", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFaq().run(
        dispatcher,
        tracker(text="zzkq vrrm", intent="nlu_fallback", confidence=0.2, events=[fallback, fallback]),
        DOMAIN,
    )
    assert {"event": "followup", "name": "action_handoff", "timestamp": None} in events
    assert slot_events(events)["handoff_reason"] == "repeated_misunderstanding"
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(
        dispatcher, tracker(text="zzkq", intent="nlu_fallback", confidence=0.2, events=[fallback]), DOMAIN
    )
    assert responses(dispatcher) == ["utter_rephrase"]


def test_handoff_records_full_context(mailing_shop: None) -> None:
    events = [
        {
            "event": "user",
            "text": "my card 4111 1111 1111 1111 was charged twice",
            "timestamp": 1.0,
            "parse_data": {
                "intent_ranking": [
                    {"name": "complaint", "confidence": 0.8},
                    {"name": "faq", "confidence": 0.1},
                ]
            },
        },
        {"event": "bot", "text": "I'm sorry", "timestamp": 2.0},
    ]
    dispatcher = CollectingDispatcher()
    result = ActionHandoff().run(
        dispatcher,
        tracker({"language": "sk", "verified_order": "482913"}, intent="complaint", events=events),
        DOMAIN,
    )
    # No agent is online: an honest offline answer, and a ticket that asks for an email.
    assert responses(dispatcher) == ["utter_angry_apology", "utter_handoff_offline"]
    assert {"event": "followup", "name": "handoff_contact_form", "timestamp": None} in result
    handoff = latest_handoff("session-under-test-0000000001")
    assert handoff.status == "ticket"
    assert handoff.reason == "angry_customer" and handoff.language == "sk"
    transcript = handoff.context["transcript"]
    assert "[card number removed]" in transcript[0]["text"] and "4111" not in str(handoff.context)
    assert transcript[0]["intent_ranking"][0] == {"name": "complaint", "confidence": 0.8}
    assert handoff.context["verified_order"] == "482913"


def test_handoff_with_an_agent_online_queues_and_pauses(shop: None) -> None:
    from bot.handoff.agents import authenticate, set_presence, upsert_agent

    upsert_agent(composition.database_url(), "eva", "correct horse battery")
    eva = authenticate(composition.database_url(), "eva", "correct horse battery")
    set_presence(composition.database_url(), eva.id, "online")  # she set herself online
    dispatcher = CollectingDispatcher()
    result = ActionHandoff().run(dispatcher, tracker(intent="request_human", sender="q" * 30), DOMAIN)
    [message] = dispatcher.messages
    assert (
        message["response"] == "utter_handoff" and message["position"] == 1 and message["wait_minutes"] >= 1
    )
    assert any(e.get("event") == "pause" for e in result)
    assert latest_handoff("q" * 30).status == "queued"
    assert composition.message_log().mode("q" * 30) == "handoff"


def latest_handoff(conversation_id: str):
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.handoff.models import Handoff

    with session_scope(composition.database_url()) as session:
        return (
            session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc())
            )
            .scalars()
            .first()
        )


def test_stop_leaves_the_form_and_forgets_its_slots(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    track = tracker({"order_number": "482913"})
    track.active_loop = {"name": "order_status_form"}
    events = ActionStopFlow().run(dispatcher, track, DOMAIN)
    assert responses(dispatcher) == ["utter_stopped"]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slot_events(events)["order_number"] is None


@pytest.mark.parametrize(
    ("form", "said"), [("cancel_order_form", "utter_cancel_kept"), (None, "utter_nothing_to_stop")]
)
def test_stop_says_only_what_happened(shop: None, form: str | None, said: str) -> None:
    """ "Never mind" in the cancellation keeps the order; outside a form nothing was running."""
    dispatcher = CollectingDispatcher()
    track = tracker({"order_number": "617245", "cancel_confirmed": None})
    track.active_loop = {"name": form} if form else {}
    ActionStopFlow().run(dispatcher, track, DOMAIN)
    assert responses(dispatcher) == [said]
    assert composition.shop_store().find_verified_order("617245", "ivan.petrov@example.ru").status == "processing"


def test_rating_is_validated(shop: None) -> None:
    dispatcher = CollectingDispatcher()
    ActionStoreRating().run(dispatcher, tracker({"rating": 9}), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_rating"]
    dispatcher = CollectingDispatcher()
    ActionStoreRating().run(dispatcher, tracker({"rating": 4.0}), DOMAIN)
    assert responses(dispatcher) == ["utter_thanks_for_rating"]
