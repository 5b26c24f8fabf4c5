"""An answer that opens with a yes is a yes, in four languages; a "no" or another request is not."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.explicit_yes import ExplicitYes, explicit_yes


@pytest.mark.parametrize(
    "text", ["yes, cancel it", "Yes please go ahead", "да, отменяйте", "ага, отмените его", "áno, zrušte to", "igen, mondja le"]
)
def test_an_answer_opening_with_yes_is_a_yes(text: str) -> None:
    assert explicit_yes(text)


@pytest.mark.parametrize(
    "text", ["yes, but don't cancel it", "да, но не отменяйте", "áno, ale nie teraz", "igen, de nem most", "ok, stop",
             "cancel it", "stop", ""],
)
def test_a_no_a_bare_verb_or_an_ok_is_not(text: str) -> None:
    assert not explicit_yes(text)


def parsed(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}, {"name": "affirm", "confidence": 0.05}])
    return message


def test_stop_or_a_fallback_after_a_yes_becomes_affirm_and_other_intents_stay() -> None:
    gate = ExplicitYes()
    stop, fallback, order = (
        parsed("yes, cancel it", "stop", 0.9),
        parsed("да, отменяйте", "nlu_fallback", 0.4),
        parsed("yes, and where is my other order?", "order_status", 0.8),
    )
    gate.process([stop, fallback, order])
    assert stop.get(INTENT)["name"] == "affirm" and fallback.get(INTENT)["name"] == "affirm"
    assert [r["name"] for r in stop.get(INTENT_RANKING_KEY)] == ["affirm", "stop"]  # affirm once, first
    assert order.get(INTENT)["name"] == "order_status"
