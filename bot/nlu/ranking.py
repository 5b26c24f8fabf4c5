"""Putting one intent first, as the gates after the classifier do (like Rasa's FallbackClassifier)."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def put_first(message: Message, name: str, confidence: float) -> None:
    """``name`` becomes the message's intent and heads its ranking (once: an earlier place is dropped)."""
    first = {"name": name, "confidence": confidence}
    rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, first, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [first, *rest], add_to_output=True)
