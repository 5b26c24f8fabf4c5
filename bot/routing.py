"""The one place that turns an NLU parse into a route (see ../shared/ROUTES.md).

The action server's FAQ action and ``python -m bot route`` both call
:meth:`Router.decide`, so the running bot and the routing command agree.

Every option comes with a calibrated probability of being right (bot.calibration):
- a flow or small-talk route: the intent's confidence, which the classifier calibrated
  on held-out folds from the ranking, the distance to the training data, the language
  detector's confidence and the message length (bot.nlu.classifier);
- an FAQ entry: from P(the message is an FAQ question) and P(this entry answers it), the
  latter from the gate each FAQ fits on itself (bot.kb.gate).
A last small calibrator (``route_calibration.json``, fitted by ``bench/fit_routes.py`` on
one half of the public Bitext and CLINC data, reported on the other half by
``make bench-nlu``) maps these to P(option right) on text nobody here wrote.
One number decides, ``routing.max_risk``: the best option is taken when its risk is
below it; else, when the two or three best options together are right that often, the
route is ``clarify`` and ``candidates`` lists them, best first (Rasa's two-stage
fallback idea); else ``out_of_scope``: an honest "I did not understand" and a person.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.calibration import Calibrator
from bot.kb.index import EntryHit
from bot.kb.retrieval import FaqDecision
from bot.kb.service import KnowledgeBase
from bot.openers import request_of
from bot.problems import problem_candidates, sounds_vague
from bot.settings import RoutingSettings

# Intents that start a flow or small talk, mapped to their route.
INTENT_ROUTES = {
    "order_status": "order_status",
    "inform": "order_status",  # a bare order number or email: the customer wants their order
    "return_request": "return_request",
    "password_reset": "password_reset",
    "cancel_order": "cancel_order",
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
FAQ_INTENT = "faq"
VAGUE_PROBLEM = "vague_problem"  # "something is wrong with my account": ask which thing (bot.problems)
MAX_CANDIDATES = 3
# An option offered in a "did you mean" is at least this likely (no filler buttons).
MIN_OFFERED = 0.05
# "Did you mean" when the best option's risk is below CLARIFY_BAND x max_risk.
CLARIFY_BAND = 1.5
# The intent model at least this sure that a message is off topic ("will it rain tomorrow",
# "how do I return something to another shop"): an FAQ entry it resembles may be offered in a
# "did you mean", never answered. The two calibrated models disagree, so the bot asks. (The
# route calibrator cannot learn this veto from its public fit data, where in-scope FAQ questions
# worded unlike ours also get a high out-of-scope probability, but rarely this high.)
OUT_OF_SCOPE_VETO = 0.9


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
    confidence: float = 0.0  # calibrated P(right): of the route, or of the offered options together
    best: tuple[str, float] = ("", 0.0)  # the most likely option and its P(right), whatever was decided

    def as_dict(self, text: str, details: bool = False) -> dict[str, Any]:
        """The line of ROUTES.md; ``details`` adds the calibrated confidence and best option."""
        result: dict[str, Any] = {
            "text": text,
            "lang": self.lang,
            "route": self.route,
            "intent": self.intent,
            "intent_confidence": round(self.intent_confidence, 4),
            "faq_id": self.faq_id,
            "faq_score": None if self.faq_score is None else round(self.faq_score, 4),
        }
        if details:
            result["confidence"] = round(self.confidence, 4)
            result["best"] = {"route": self.best[0], "p": round(self.best[1], 4)}
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


@dataclass(frozen=True)
class Option:
    route: str
    probability: float


ROUTE_CALIBRATION = Path(__file__).resolve().parent / "route_calibration.json"


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


class RouteCalibrator:
    """P(option right) from its kind and the calibrated intent and FAQ-gate probabilities.

    Without a fitted file an FAQ option is P(FAQ question, not out of scope) x P(entry).
    """

    def __init__(self, calibrator: Calibrator | None = None) -> None:
        self.calibrator = calibrator

    @classmethod
    def load(cls, path: Path = ROUTE_CALIBRATION) -> RouteCalibrator:
        try:
            return cls(Calibrator.from_dict(json.loads(path.read_text())["calibrator"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(None)

    @staticmethod
    def features(kind_faq: bool, intent_p: float, entry_p: float, out_of_scope_p: float) -> list[float]:
        return [float(kind_faq), _logit(intent_p), _logit(entry_p) if kind_faq else 0.0, _logit(out_of_scope_p)]

    def options(self, ranking: list[tuple[str, float]], faq: FaqDecision) -> list[Option]:
        raw = intent_options(ranking)
        scores = dict(ranking)
        faq_share, oos = scores.get(FAQ_INTENT, 0.0), scores.get(OUT_OF_SCOPE, 0.0)
        hits = faq.candidates[: len(faq.probabilities)]
        if self.calibrator is None:
            share = faq_share / max(1.0 - oos, 1e-6)
            return raw + [
                Option(f"faq:{h.entry_id}", min(1.0, share * p)) for h, p in zip(hits, faq.probabilities, strict=True)
            ]
        rows = [self.features(False, o.probability, 0.0, oos) for o in raw]
        rows += [self.features(True, faq_share, p, oos) for p in faq.probabilities]
        routes = [o.route for o in raw] + [f"faq:{h.entry_id}" for h in hits]
        if not rows:
            return []
        return [Option(r, float(p)) for r, p in zip(routes, self.calibrator.probability(rows), strict=True)]


def intent_options(ranking: list[tuple[str, float]]) -> list[Option]:
    """Routes the intent ranking stands for (two intents may share one, e.g. handoff)."""
    merged: dict[str, float] = {}
    for name, p in ranking[:MAX_CANDIDATES]:
        if name in INTENT_ROUTES:
            route = INTENT_ROUTES[name]
            merged[route] = min(1.0, merged.get(route, 0.0) + p)
    return [Option(route, p) for route, p in merged.items()]


def vetoed(options: list[Option], out_of_scope_p: float, max_risk: float) -> list[Option]:
    """FAQ options kept just under the answer line when the message is surely off topic."""
    if out_of_scope_p < OUT_OF_SCOPE_VETO:
        return options
    ceiling = math.nextafter(1.0 - max_risk, 0.0)
    return [Option(o.route, min(o.probability, ceiling)) if o.route.startswith("faq:") else o for o in options]


def best_option(options: list[Option]) -> Option:
    return max(options, key=lambda o: o.probability, default=Option(OUT_OF_SCOPE, 0.0))


def choose(options: list[Option], max_risk: float) -> tuple[str, tuple[str, ...], float]:
    """(route, clarify candidates, confidence) from calibrated options and the one risk number."""
    ranked = sorted(options, key=lambda o: -o.probability)
    if ranked and ranked[0].probability >= 1.0 - max_risk:
        return ranked[0].route, (), ranked[0].probability
    offered = [o for o in ranked[:MAX_CANDIDATES] if o.probability >= MIN_OFFERED]
    together = sum(o.probability for o in offered)
    # The middle band: the best option alone is nearly good enough, or the few best together are.
    near = ranked[0].probability >= 1.0 - CLARIFY_BAND * max_risk if ranked else False
    if len(offered) >= 2 and (together >= 1.0 - max_risk or near):
        return CLARIFY, tuple(o.route for o in offered), min(1.0, together)
    return OUT_OF_SCOPE, (), 1.0 - (ranked[0].probability if ranked else 0.0)


class Router:
    def __init__(
        self, kb: KnowledgeBase, settings: RoutingSettings, calibrator: RouteCalibrator | None = None
    ) -> None:
        self.kb = kb
        self.settings = settings
        self.calibrator = calibrator or RouteCalibrator.load()

    def decide(self, text: str, parse: dict[str, Any], lang_hint: str | None = None) -> RouteDecision:
        intent, confidence = top_intent(parse)
        lang = language_of(parse, lang_hint)
        ranking = ranked_intents(parse)
        if intent in INTENT_ROUTES:
            # The NLU's RiskGate let it through (its risk is under max_risk): the dialogue
            # rules start this flow directly, so the route says the same.
            route = INTENT_ROUTES[intent]
            return RouteDecision(route, intent, confidence, lang, confidence=confidence, best=(route, confidence))
        vague = VAGUE_PROBLEM in (intent, ranking[0][0]) and intent in (VAGUE_PROBLEM, FALLBACK_INTENT)
        if vague or (intent in (FALLBACK_INTENT, OUT_OF_SCOPE) and sounds_vague(text)):
            # A problem named only vaguely: ask which thing it is, even when unsure; never guess.
            candidates = problem_candidates(text)
            return RouteDecision(
                CLARIFY, intent, confidence, lang, candidates=candidates, confidence=confidence, best=(CLARIFY, confidence)
            )
        hits = tuple(self.kb.search(request_of(text), k=5))  # without "hi, ..." / "..., thanks"
        faq = self.kb.assess(list(hits))
        options = vetoed(self.calibrator.options(ranking, faq), dict(ranking).get(OUT_OF_SCOPE, 0.0), self.settings.max_risk)
        route, candidates, p = choose(options, self.settings.max_risk)
        best = best_option(options)
        faq_id = route.removeprefix("faq:") if route.startswith("faq:") else None
        return RouteDecision(
            route,
            intent,
            confidence,
            lang,
            faq_id=faq_id,
            faq_score=faq.score if hits else None,
            faq_hits=hits,
            candidates=candidates,
            confidence=p,
            best=(best.route, best.probability),
        )
