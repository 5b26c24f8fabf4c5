"""Out-of-scope gate on the distance to the training data (after the intent classifier).

A message worded like a flow ("where is my Amazon order", "zapni svetlo") can win
a flow intent with middling confidence while its nearest training examples are out
of scope. The same holds for any shop request that names another shop or marketplace
(the ``other_shop`` regex entity: "where is my Amazon order"). Like Rasa's
FallbackClassifier, this component then puts ``out_of_scope`` first, so the rules,
the router and ``python -m bot route`` all see the same intent.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
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
            # an entity that puts any shop request out of scope
            "foreign_entity": "other_shop",
            "foreign_intents": ["order_status", "return_request", "inform", "faq"],
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
            if self._foreign(message, intent.get("name")) or self._far(message, intent):
                confidence = float(intent.get("confidence") or 0.0)
                gated = {"name": OUT_OF_SCOPE, "confidence": confidence}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != OUT_OF_SCOPE]
                message.set(INTENT, gated, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [gated, *ranking], add_to_output=True)
        return messages

    def _foreign(self, message: Message, intent: str | None) -> bool:
        if intent not in self.config["foreign_intents"]:
            return False
        return any(e.get("entity") == self.config["foreign_entity"] for e in message.get(ENTITIES) or [])

    def _far(self, message: Message, intent: dict[str, Any]) -> bool:
        domain = message.get(DOMAIN_KEY)
        if intent.get("name") not in self.config["intents"] or not isinstance(domain, dict):
            return False
        lean = float(domain.get("out_of_scope", 0.0)) - float(domain.get("in_domain", 0.0))
        confidence = float(intent.get("confidence") or 0.0)
        return lean > float(self.config["min_lean"]) and confidence < float(self.config["max_confidence"])
