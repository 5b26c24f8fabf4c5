"""Search steps, one small component each (Haystack-2 style): typed in, typed out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from bot.kb.embedder import Embedder
from bot.kb.gate import FaqGate
from bot.kb.index import EntryHit, FaqIndex
from bot.settings import GateConfig

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


class QueryEmbedder:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def run(self, text: str) -> np.ndarray:
        return self.embedder.embed_queries([text])[0]


class DenseRetriever:
    def __init__(self, index: FaqIndex) -> None:
        self.index = index

    def run(self, vector: np.ndarray, k: int = 5) -> list[EntryHit]:
        return self.index.search(vector, k)


class Bm25Retriever:
    """Lexical baseline over the same phrasings (rank-bm25, BM25Okapi)."""

    def __init__(self, index: FaqIndex) -> None:
        self.rows = index.rows
        corpus = [tokenize(r.question) for r in self.rows]
        self.bm25 = BM25Okapi(corpus) if corpus else None

    def run(self, text: str, k: int = 5) -> list[EntryHit]:
        if self.bm25 is None:
            return []
        scores = self.bm25.get_scores(tokenize(text))
        best: dict[str, EntryHit] = {}
        for row_id in np.argsort(-scores):
            row = self.rows[row_id]
            if scores[row_id] <= 0:
                break
            if row.entry_id not in best:
                best[row.entry_id] = EntryHit(row.entry_id, float(scores[row_id]), row.question, row.lang)
            if len(best) >= k:
                break
        return list(best.values())


@dataclass(frozen=True)
class FaqDecision:
    entry_id: str | None
    score: float
    margin: float
    candidates: tuple[EntryHit, ...]
    probabilities: tuple[float, ...] = ()  # P(right) of the best candidates, best first

    @property
    def answered(self) -> bool:
        return self.entry_id is not None

    @property
    def probability(self) -> float:
        return self.probabilities[0] if self.probabilities else 0.0


class AnswerGate:
    """Answer only when the FAQ's own calibrated gate says the best entry is right often enough.

    e5 cosines bunch together and differ between FAQs, so the probability comes from
    relative evidence fitted on this FAQ (score, gap to the runner-up, lead over the rest).
    """

    def __init__(self, config: GateConfig) -> None:
        self.config = config

    def run(self, hits: list[EntryHit], gate: FaqGate | None = None, max_risk: float | None = None) -> FaqDecision:
        if not hits:
            return FaqDecision(None, 0.0, 0.0, ())
        top = hits[0]
        margin = top.score - hits[1].score if len(hits) > 1 else top.score
        probabilities = tuple(gate.probabilities([h.score for h in hits])) if gate else ()
        risk = self.config.max_risk if max_risk is None else max_risk
        accept = bool(probabilities) and probabilities[0] >= 1.0 - risk
        return FaqDecision(top.entry_id if accept else None, top.score, margin, tuple(hits), probabilities)
