"""The one place that turns an NLU parse into a route (see ../shared/ROUTES.md).

The action server's FAQ action and ``python -m bot route`` both call
:meth:`Router.decide`, so the running bot and the routing command agree.

Signals combined, all from one parse plus one FAQ search:
- the intent ranking (a flow intent, ``faq``, ``out_of_scope``, ``nlu_fallback``);
- the FAQ score of the best entry and its margin over the runner-up;
- the distance to the training data (``domain`` from the intent classifier): the
  mean cosine of the nearest in-domain and nearest out-of-scope examples (flow
  intents are gated on it inside the NLU pipeline, bot.nlu.domain_gate).
When two or three routes are close the route is ``clarify`` and ``candidates``
lists what the bot offers, best first (Rasa's two-stage fallback idea).
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
SMALL_TALK = {"greet", "goodbye", "thanks"}
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
CLARIFY = "clarify"
MAX_CANDIDATES = 3


@dataclass(frozen=True)
class RouteDecision:
    route: str
    intent: str
    intent_confidence: float
    lang: str
    faq_id: str | None = None
    faq_score: float | None = None
    faq_hits: tuple[EntryHit, ...] = field(default=())
    candidates: tuple[str, ...] = field(default=())  # the routes a `clarify` offers, best first

    def as_dict(self, text: str) -> dict[str, Any]:
        result: dict[str, Any] = {
            "text": text,
            "lang": self.lang,
            "route": self.route,
            "intent": self.intent,
            "intent_confidence": round(self.intent_confidence, 4),
            "faq_id": self.faq_id,
            "faq_score": None if self.faq_score is None else round(self.faq_score, 4),
        }
        if self.route == CLARIFY:
            result["candidates"] = list(self.candidates)
        return result


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


def ranked_intents(parse: dict[str, Any]) -> list[tuple[str, float]]:
    """The classifier's ranking without the FallbackClassifier's entry."""
    ranking = [
        (str(r.get("name")), float(r.get("confidence") or 0.0))
        for r in parse.get("intent_ranking") or []
        if r.get("name") and r.get("name") != FALLBACK_INTENT
    ]
    if not ranking:
        ranking = [top_intent(parse)]
    return ranking


def out_of_scope_lean(parse: dict[str, Any]) -> float | None:
    """How much closer the message is to out-of-scope than to in-domain training examples."""
    domain = parse.get("domain")
    if not isinstance(domain, dict) or "in_domain" not in domain:
        return None  # a pipeline without our classifier (e.g. Rasa's default one)
    return float(domain.get("out_of_scope", 0.0)) - float(domain["in_domain"])


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
        lean = out_of_scope_lean(parse)
        ranking = ranked_intents(parse)
        s = self.settings

        def make(route: str, candidates: tuple[str, ...] = (), **faq: Any) -> RouteDecision:
            return RouteDecision(route, intent, confidence, lang, candidates=candidates, **faq)

        if intent in INTENT_ROUTES:
            return make(INTENT_ROUTES[intent])
        if intent == FALLBACK_INTENT:
            # The FallbackClassifier was unsure; if a flow leads, offer it and the runner-up.
            (best, _), (second, _) = [*ranking, ("", 0.0)][:2]
            if best in INTENT_ROUTES and best not in SMALL_TALK:
                alternative = self._alternative(text, second)
                if alternative and alternative != INTENT_ROUTES[best]:
                    return make(CLARIFY, (INTENT_ROUTES[best], alternative))

        floor = self.faq_floor(intent)
        hits = tuple(self.kb.search(text, k=5))
        decision = self.kb.gate.run(list(hits), min_score=floor)
        faq = {"faq_score": decision.score if hits else None, "faq_hits": hits}
        if intent == OUT_OF_SCOPE and lean is not None and lean > s.out_of_scope_lean:
            return make(OUT_OF_SCOPE, **faq)  # the classifier and the neighbours agree
        if decision.answered:
            close = [h for h in hits[:MAX_CANDIDATES] if decision.score - h.score <= s.clarify_faq_margin]
            if intent == "faq" and len(close) > 1:
                return make(CLARIFY, tuple(f"faq:{h.entry_id}" for h in close), **faq)
            return make(f"faq:{decision.entry_id}", faq_id=decision.entry_id, **faq)
        if intent == "faq" and hits and decision.score >= floor - s.clarify_faq_grey:
            return make(CLARIFY, tuple(f"faq:{h.entry_id}" for h in hits[:2]), **faq)
        return make(OUT_OF_SCOPE, **faq)

    def _alternative(self, text: str, intent: str) -> str | None:
        """The route a runner-up intent stands for, if it is a real option."""
        if intent in INTENT_ROUTES and intent not in SMALL_TALK:
            return INTENT_ROUTES[intent]
        if intent == "faq":
            decision = self.kb.decide(text, min_score=self.faq_floor("faq") - self.settings.clarify_faq_grey)
            if decision.answered:
                return f"faq:{decision.entry_id}"
        return None
