"""Out-of-scope gate for a shop request about another shop (after the intent classifier).

Any shop request that names another shop or marketplace (the ``other_shop`` regex
entity: "where is my Amazon order") is out of scope. Like Rasa's FallbackClassifier,
this component then puts ``out_of_scope`` first, so the rules, the router and
``python -m bot route`` all see the same intent. (The distance to the training data,
which this gate also used to threshold, is now one of the calibrator's features.)
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.classifier import OUT_OF_SCOPE
from bot.nlu.ranking import put_first


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DomainGate(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # an entity that puts any shop request out of scope
            "foreign_entity": "other_shop",
            "foreign_intents": ["order_status", "return_request", "cancel_order", "inform", "faq"],
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
            if self._foreign(message, intent.get("name")):
                put_first(message, OUT_OF_SCOPE, float(intent.get("confidence") or 0.0))
                # Gone from the ranking too: the router builds its options from the ranking, and
                # "где мой заказ с Amazon" still started our order-status flow from it.
                foreign = set(self.config["foreign_intents"])
                kept = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in foreign]
                message.set(INTENT_RANKING_KEY, kept, add_to_output=True)
        return messages

    def _foreign(self, message: Message, intent: str | None) -> bool:
        if intent not in self.config["foreign_intents"]:
            return False
        return any(e.get("entity") == self.config["foreign_entity"] for e in message.get(ENTITIES) or [])
