"""The one place that turns an NLU parse into a route (see ../shared/ROUTES.md).

The action server's FAQ action and ``python -m bot route`` both call
:meth:`Router.decide`, so the running bot and the routing command agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.kb.index import EntryHit
from bot.kb.service import KnowledgeBase
from bot.settings import RoutingSettings

# Intents that start a flow or small talk, mapped to their route.
INTENT_ROUTES = {
    "order_status": "order_status",
    "inform": "order_status",  # a bare order number or email: the customer wants their order
    "return_request": "return_request",
    "password_reset": "password_reset",
    "request_human": "handoff",
    "complaint": "handoff",
    "greet": "greet",
    "goodbye": "goodbye",
    "thanks": "thanks",
}
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class RouteDecision:
    route: str
    intent: str
    intent_confidence: float
    lang: str
    faq_id: str | None = None
    faq_score: float | None = None
    candidates: tuple[EntryHit, ...] = field(default=())

    def as_dict(self, text: str) -> dict[str, Any]:
        return {
            "text": text,
            "lang": self.lang,
            "route": self.route,
            "intent": self.intent,
            "intent_confidence": round(self.intent_confidence, 4),
            "faq_id": self.faq_id,
            "faq_score": None if self.faq_score is None else round(self.faq_score, 4),
        }


def language_of(parse: dict[str, Any], hint: str | None = None) -> str:
    """The detected ISO code from the LanguageDetector entity, else the hint, else en."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "language":
            return str(entity.get("detected") or entity.get("value"))
    return hint or "en"


def top_intent(parse: dict[str, Any]) -> tuple[str, float]:
    """(intent, confidence); behind an nlu_fallback, the classifier's own best confidence."""
    intent = parse.get("intent") or {}
    name = intent.get("name") or FALLBACK_INTENT
    confidence = float(intent.get("confidence") or 0.0)
    if name == FALLBACK_INTENT:
        for ranked in parse.get("intent_ranking") or []:
            if ranked.get("name") != FALLBACK_INTENT:
                confidence = float(ranked.get("confidence") or 0.0)
                break
    return name, confidence


class Router:
    def __init__(self, kb: KnowledgeBase, settings: RoutingSettings) -> None:
        self.kb = kb
        self.settings = settings

    def faq_floor(self, intent: str) -> float:
        floors = self.settings.faq_min_score
        return floors.get(intent, self.kb.gate.config.min_score)

    def decide(self, text: str, parse: dict[str, Any], lang_hint: str | None = None) -> RouteDecision:
        intent, confidence = top_intent(parse)
        lang = language_of(parse, lang_hint)
        if intent in INTENT_ROUTES:
            return RouteDecision(INTENT_ROUTES[intent], intent, confidence, lang)
        decision = self.kb.decide(text, min_score=self.faq_floor(intent))
        if decision.answered:
            return RouteDecision(
                f"faq:{decision.entry_id}",
                intent,
                confidence,
                lang,
                decision.entry_id,
                decision.score,
                decision.candidates,
            )
        return RouteDecision(
            "out_of_scope", intent, confidence, lang, None, decision.score, decision.candidates
        )
