"""Routing signals and the "Did you mean ...?" flow, on the real FAQ index and Tracker fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq, ActionClarifySomethingElse, faq_payload
from bot import composition
from bot.shop.seed import seed_demo_data
from tests.unit.test_actions import DOMAIN, responses, slot_events


@pytest.fixture()
def shop(app_env) -> None:
    seed_demo_data(composition.database_url())


def parse(text: str, ranking: list[tuple[str, float]], top: str | None = None, **extra: Any) -> dict:
    ranked = [{"name": n, "confidence": c} for n, c in ranking]
    intent = {"name": top, "confidence": 0.35} if top else ranked[0]
    return {"text": text, "intent": intent, "intent_ranking": ranked, "entities": [], **extra}


def tracker_for(message: dict, slots: dict | None = None) -> Tracker:
    base = {"language": "en", "verification_failures": 0.0}
    return Tracker(
        "session-clarify-000000000001",
        {**base, **(slots or {})},
        message,
        [],
        False,
        None,
        {},
        "action_listen",
    )


def test_unsure_flow_intent_offers_the_flow_and_the_runner_up(app_env) -> None:
    message = parse(
        "how do I send back the monitor",
        [("return_request", 0.5), ("faq", 0.2), ("out_of_scope", 0.05)],
        top="nlu_fallback",
    )
    decision = composition.router().decide(message["text"], message)
    assert decision.route == "clarify"  # neither is likely enough alone; together they are
    assert decision.candidates[0].startswith("faq:") and decision.candidates[1] == "return_request"
    assert decision.as_dict(message["text"])["candidates"] == list(decision.candidates)


def test_a_clear_faq_question_is_answered_and_an_out_of_scope_one_is_not(app_env) -> None:
    text = "how long does shipping take"  # a clear FAQ question ...
    faq = composition.router().decide(text, parse(text, [("faq", 0.95), ("out_of_scope", 0.03)]))
    assert faq.route == "faq:delivery_time" and "candidates" not in faq.as_dict(text)
    assert faq.confidence >= 1 - composition.router().settings.max_risk
    # ... an off-topic one, which the calibrated classifier puts out of scope, gets no answer and no guess.
    other = "set an alarm for seven tomorrow"
    gated = parse(other, [("out_of_scope", 0.95), ("faq", 0.03)])
    assert composition.router().decide(other, gated).route == "out_of_scope"


def test_a_flow_the_nlu_risk_gate_passed_is_routed_like_the_rules_start_it(app_env) -> None:
    message = parse("where is my order", [("order_status", 0.9), ("faq", 0.05)])
    decision = composition.router().decide(message["text"], message)
    assert (decision.route, decision.confidence) == ("order_status", 0.9)


def test_clarify_buttons_are_offered_payloads_in_the_customers_language(shop: None) -> None:
    message = parse(
        "хочу отправить обратно монитор",
        [("return_request", 0.5), ("faq", 0.2), ("out_of_scope", 0.05)],
        top="nlu_fallback",
    )
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(dispatcher, tracker_for(message, {"language": "ru"}), DOMAIN)
    [question] = dispatcher.messages
    assert question["response"] == "utter_clarify"
    payloads = [b["payload"] for b in question["buttons"]]
    titles = [b["title"] for b in question["buttons"]]
    assert payloads[0] == "/return_request" and payloads[-1] == "/something_else"
    assert payloads[1].startswith('/faq{"faq_id":"')
    assert titles[0] == "Вернуть товар" and titles[-1] == "Другое"
    assert all(any("а" <= ch <= "я" for ch in t.casefold()) for t in titles)  # all in Russian


def test_a_clicked_faq_button_answers_that_entry(shop: None) -> None:
    message = {
        "text": faq_payload("refund_policy"),
        "intent": {"name": "faq", "confidence": 1.0},
        "entities": [{"entity": "faq_id", "value": "refund_policy"}],
    }
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(dispatcher, tracker_for(message, {"language": "sk"}), DOMAIN)
    assert responses(dispatcher) == ["refund_policy"]


def test_something_else_asks_to_rephrase_once_then_offers_a_person(shop: None) -> None:
    click = {"text": "/something_else", "intent": {"name": "something_else", "confidence": 1.0}}
    dispatcher = CollectingDispatcher()
    events = ActionClarifySomethingElse().run(dispatcher, tracker_for(click), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    assert slot_events(events)["clarify_rephrased"] is True
    # The rephrased message is still unclear: a person is offered, not another question.
    unclear = parse("blah the thing with the stuff", [("out_of_scope", 0.6)])
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFaq().run(dispatcher, tracker_for(unclear, {"clarify_rephrased": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_offer_human"]
    assert slot_events(events)["offered_human"] is True
    # Clicking "something else" a second time also offers a person.
    dispatcher = CollectingDispatcher()
    ActionClarifySomethingElse().run(dispatcher, tracker_for(click, {"clarify_rephrased": True}), DOMAIN)
    assert responses(dispatcher) == ["utter_offer_human"]


def test_domain_gate_puts_a_request_about_another_shop_out_of_scope() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.domain_gate import DomainGate

    gate = DomainGate({})

    def gated(entities: list[dict]) -> list[str]:
        message = Message(data={"text": "where is my Amazon order", "entities": entities})
        message.set("intent", {"name": "order_status", "confidence": 0.9})
        message.set("intent_ranking", [{"name": "order_status", "confidence": 0.9}, {"name": "faq", "confidence": 0.05},
                                       {"name": "greet", "confidence": 0.01}])
        out = gate.process([message])[0]
        ranking = [r["name"] for r in out.get("intent_ranking")]
        assert ranking[0] == out.get("intent")["name"]
        return ranking

    # Out of scope, and no shop intent left in the ranking for the router to start a flow from.
    assert gated([{"entity": "other_shop", "value": "Amazon"}]) == ["out_of_scope", "greet"]
    assert gated([]) == ["order_status", "faq", "greet"]
