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
        [("return_request", 0.33), ("faq", 0.31)],
        top="nlu_fallback",
    )
    decision = composition.router().decide(message["text"], message)
    assert decision.route == "clarify"
    assert decision.candidates[0] == "return_request"
    assert decision.candidates[1].startswith("faq:")
    assert decision.as_dict(message["text"])["candidates"] == list(decision.candidates)


def test_out_of_scope_nearer_to_out_of_scope_examples_is_never_a_faq_answer(app_env) -> None:
    text = "how long does shipping take"  # a clear FAQ question ...
    faq = composition.router().decide(text, parse(text, [("faq", 0.9)]))
    assert faq.route == "faq:delivery_time" and "candidates" not in faq.as_dict(text)
    # ... but when the classifier says out_of_scope and the nearest examples agree, no answer.
    gated = parse(text, [("out_of_scope", 0.8)], domain={"in_domain": 0.88, "out_of_scope": 0.93})
    assert composition.router().decide(text, gated).route == "out_of_scope"
    # Without the distance signal (another pipeline) the FAQ floor for out_of_scope decides.
    plain = parse(text, [("out_of_scope", 0.8)])
    assert composition.router().decide(text, plain).route != "clarify"


def test_clarify_buttons_are_offered_payloads_in_the_customers_language(shop: None) -> None:
    message = parse(
        "хочу отправить обратно монитор",
        [("return_request", 0.33), ("faq", 0.31)],
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


def test_domain_gate_turns_a_middling_flow_intent_near_out_of_scope_examples_into_out_of_scope() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.domain_gate import DomainGate

    gate = DomainGate({"min_lean": 0.02, "max_confidence": 0.9})

    def gated(confidence: float, in_domain: float, out_of_scope: float) -> str:
        message = Message(data={"text": "where is my Amazon order"})
        message.set("intent", {"name": "order_status", "confidence": confidence})
        message.set("intent_ranking", [{"name": "order_status", "confidence": confidence}])
        message.set("domain", {"in_domain": in_domain, "out_of_scope": out_of_scope})
        return gate.process([message])[0].get("intent")["name"]

    assert gated(0.7, 0.90, 0.95) == "out_of_scope"  # nearer to what we can't do
    assert gated(0.95, 0.90, 0.95) == "order_status"  # a confident flow intent stays
    assert gated(0.7, 0.93, 0.92) == "order_status"  # nearer to our own examples
