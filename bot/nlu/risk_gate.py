"""Falls back when the calibrated intent is too risky to act on (replaces FallbackClassifier).

The intent ranking's ``confidence`` is P(intent is right) (bot.nlu.classifier). A flow or
small-talk intent is acted on by the dialogue rules directly, so it must clear the one
threshold a shop tunes, ``routing.max_risk`` in settings.yml; otherwise the message
becomes ``nlu_fallback`` and the router (bot.routing) asks "did you mean" or says it did
not understand. ``faq`` and ``out_of_scope`` go to the router anyway. Short dialogue acts
inside a form ("yes", "stop", an order number) only fall back when they are a near guess.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.ranking import put_first

FALLBACK_INTENT = "nlu_fallback"
ROUTER_INTENTS = frozenset({"faq", "out_of_scope", FALLBACK_INTENT})


def default_max_risk() -> float:
    from bot.settings import load_settings

    return load_settings().routing.max_risk


def needs_fallback(name: str, confidence: float, max_risk: float, dialogue_acts: set[str], act_floor: float) -> bool:
    if name in ROUTER_INTENTS:
        return False
    limit = act_floor if name in dialogue_acts else 1.0 - max_risk
    return confidence < limit


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RiskGate(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "max_risk": None,  # None: routing.max_risk of settings.yml
            "dialogue_acts": ["affirm", "deny", "stop", "inform", "something_else", "rate"],
            "dialogue_act_floor": 0.3,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **config}
        risk = self.config["max_risk"]
        self.max_risk = float(default_max_risk() if risk is None else risk)
        self.dialogue_acts = set(self.config["dialogue_acts"])
        self.act_floor = float(self.config["dialogue_act_floor"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskGate:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)
            if not name or not needs_fallback(name, confidence, self.max_risk, self.dialogue_acts, self.act_floor):
                continue
            put_first(message, FALLBACK_INTENT, round(1.0 - confidence, 4))
        return messages
