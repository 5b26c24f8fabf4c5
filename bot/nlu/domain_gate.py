"""Out-of-scope gate on the distance to the training data (after the intent classifier).

A message worded like a flow ("where is my Amazon order", "zapni svetlo") can win
a flow intent with middling confidence while its nearest training examples are out
of scope. Like Rasa's FallbackClassifier, this component then puts ``out_of_scope``
first, so the rules, the router and ``python -m bot route`` all see the same intent.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.classifier import DOMAIN_KEY, OUT_OF_SCOPE


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DomainGate(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": ["order_status", "return_request", "password_reset", "request_human", "complaint"],
            # out-of-scope minus in-domain cosine of the nearest training examples
            "min_lean": 0.02,
            "max_confidence": 0.9,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DomainGate:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            domain = message.get(DOMAIN_KEY)
            if intent.get("name") not in self.config["intents"] or not isinstance(domain, dict):
                continue
            lean = float(domain.get("out_of_scope", 0.0)) - float(domain.get("in_domain", 0.0))
            confidence = float(intent.get("confidence") or 0.0)
            if lean > float(self.config["min_lean"]) and confidence < float(self.config["max_confidence"]):
                gated = {"name": OUT_OF_SCOPE, "confidence": confidence}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != OUT_OF_SCOPE]
                message.set(INTENT, gated, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [gated, *ranking], add_to_output=True)
        return messages
