"""An answer that starts with an explicit "yes" is a yes (after the risk gate).

"Shall I cancel order 482913 now?" - "yes, cancel it" / "да, отменяйте" / "áno, zrušte to": the
classifier hears the verb and says ``stop`` (or is unsure), and the form would end the flow the
customer just confirmed. A message that opens with a yes-word of one of our languages and holds
no negation is ``affirm`` when the classifier's reading is one that contradicts or ignores that
yes (``stop``, ``nlu_fallback``, ``out_of_scope``); any other intent ("yes, and where is my other
order?") is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.classifier import OUT_OF_SCOPE
from bot.nlu.ranking import put_first
from bot.nlu.risk_gate import FALLBACK_INTENT

AFFIRM = "affirm"
OVERRIDDEN = ("stop", FALLBACK_INTENT, OUT_OF_SCOPE)
# Only words that mean yes and nothing else: "ok, stop" and "давайте остановимся" are not a yes.
YES_WORDS = frozenset(
    {"yes", "yeah", "yep", "yup", "sure"}  # en
    | {"да", "ага", "угу", "конечно"}  # ru
    | {"áno", "ano", "hej", "jasné", "jasne", "určite", "urcite"}  # sk
    | {"igen", "persze"}  # hu
)
NEGATIONS = frozenset(
    {"no", "not", "don't", "dont", "never"}  # en
    | {"не", "нет", "ни", "нельзя"}  # ru
    | {"nie", "ne", "nechcem"}  # sk
    | {"nem"}  # hu
)
CONFIDENCE = 0.9  # an explicit yes: the dialogue rules act on it (RiskGate's floor for acts is lower)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def explicit_yes(text: str) -> bool:
    """Opens with a yes-word ("yes, cancel it") and says no "not" anywhere."""
    words = [w.lower() for w in _WORD.findall(text)]
    return bool(words) and words[0] in YES_WORDS and not any(w in NEGATIONS for w in words)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ExplicitYes(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ExplicitYes:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") not in OVERRIDDEN or not explicit_yes(message.get(TEXT) or ""):
                continue
            put_first(message, AFFIRM, CONFIDENCE)
        return messages
