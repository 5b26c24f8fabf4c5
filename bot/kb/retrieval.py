"""Search steps, one small component each (Haystack-2 style): typed in, typed out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from bot.kb.embedder import Embedder
from bot.kb.index import EntryHit, FaqIndex

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
class GateConfig:
    """Thresholds on the cosine of the best phrasing; tuned by ``make bench-kb``."""

    min_score: float = 0.88
    min_margin: float = 0.0
    confident_score: float = 0.95


@dataclass(frozen=True)
class FaqDecision:
    entry_id: str | None
    score: float
    margin: float
    candidates: tuple[EntryHit, ...]

    @property
    def answered(self) -> bool:
        return self.entry_id is not None


class AnswerGate:
    """Answer only when the best entry is both close and clearly ahead of the next one.

    e5 cosines bunch together, so the score alone cannot separate off-topic
    questions; a small margin over the runner-up guards against a coin toss.
    """

    def __init__(self, config: GateConfig) -> None:
        self.config = config

    def run(self, hits: list[EntryHit], min_score: float | None = None) -> FaqDecision:
        if not hits:
            return FaqDecision(None, 0.0, 0.0, ())
        top = hits[0]
        margin = top.score - hits[1].score if len(hits) > 1 else top.score
        floor = self.config.min_score if min_score is None else min_score
        accept = top.score >= floor and (
            margin >= self.config.min_margin or top.score >= self.config.confident_score
        )
        return FaqDecision(top.entry_id if accept else None, top.score, margin, tuple(hits))
