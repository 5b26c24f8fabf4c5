"""An FAQ's answer gate, fitted on that FAQ itself whenever its index is built.

Absolute cosine floors tuned on one FAQ mean nothing in another: in a dense domain
with one phrasing per entry every question scores 0.9. So the gate learns, per FAQ,
P(this entry is the right answer) from relative evidence (the candidate's score, its
gap to the best other entry, its lead over the rest; bot.calibration), on queries
whose answer is known:

- each phrasing with itself left out (its entry keeps its other phrasings): answerable;
- the first sentence of each answer, against all phrasings: answerable, and the only
  positive evidence an entry with a single phrasing has;
- each phrasing with its whole entry left out: an in-domain question the FAQ cannot
  answer (the hard case);
- general sentences in each language the FAQ has (bot/kb/general/, SIB-200): off topic.

Answerable and unanswerable queries weigh the same. The fitted gate is a few floats,
saved in the index manifest. Its leave-one-out confusions feed ``kb check``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.calibration import Calibrator, fit_calibrator, ranked_features
from bot.kb.schema import FaqEntry, Issue

GENERAL_DIR = Path(__file__).resolve().parent / "general"
GENERAL_PER_LANGUAGE = 100
GENERAL_WORDS = 14  # customers write short messages; long sentences only cost embedding time
TOP_PHRASINGS = 3  # as FaqIndex.search: an entry scores the mean of its best phrasings
_MARKUP = re.compile(r"\{\{.*?\}\}|[*_#>`\[\]]|\(https?://[^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@lru_cache(maxsize=8)
def general_sentences(lang: str) -> tuple[str, ...]:
    """Off-topic sentences in ``lang`` (empty when there are none for it)."""
    path = GENERAL_DIR / f"sib200_{lang}.txt"
    if not path.exists():
        return ()
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(" ".join(line.split()[:GENERAL_WORDS]) for line in lines[:GENERAL_PER_LANGUAGE])


def answer_query(answer: str) -> str:
    """The first sentence of an answer, without markup: what a customer might ask about."""
    text = " ".join(_MARKUP.sub(" ", answer).split())
    return _SENTENCE_END.split(text, maxsplit=1)[0][:200]


@dataclass(frozen=True)
class FaqGate:
    calibrator: Calibrator | None
    # (entry, entry its left-out phrasings went to, how many, of how many)
    confusions: tuple[tuple[str, str, int, int], ...] = field(default=())

    def probabilities(self, scores: list[float]) -> list[float]:
        """P(right) for the best ``CANDIDATES`` of these descending entry scores."""
        if not scores:
            return []
        if self.calibrator is None:  # an FAQ with too little to fit on: never sure
            return [0.0] * len(ranked_features(scores))
        return [float(p) for p in self.calibrator.probability(ranked_features(scores))]

    def as_dict(self) -> dict:
        return {
            "calibrator": self.calibrator.as_dict() if self.calibrator else None,
            "confusions": [list(c) for c in self.confusions],
        }

    @classmethod
    def from_dict(cls, data: dict) -> FaqGate:
        raw = data.get("calibrator")
        return cls(
            Calibrator.from_dict(raw) if raw else None,
            tuple((str(a), str(b), int(n), int(m)) for a, b, n, m in data.get("confusions", [])),
        )


def entry_scores(sims: np.ndarray, entry_of_row: np.ndarray, entries: int, exclude: np.ndarray) -> np.ndarray:
    """(queries x entries): the mean of each entry's best phrasings, ``exclude``d rows left out."""
    masked = np.where(exclude, -np.inf, sims)
    out = np.full((sims.shape[0], entries), -np.inf)
    for e in range(entries):
        columns = np.flatnonzero(entry_of_row == e)
        top = -np.sort(-masked[:, columns], axis=1)[:, :TOP_PHRASINGS]
        valid = np.isfinite(top)
        count = valid.sum(axis=1)
        total = np.where(valid, top, 0.0).sum(axis=1)
        out[:, e] = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
    return out


def _candidate_rows(scores: np.ndarray, truth: int | None) -> tuple[np.ndarray, list[bool]]:
    order = np.argsort(-scores)
    ranked = [float(scores[i]) for i in order[:6] if np.isfinite(scores[i])]
    if not ranked:
        return np.zeros((0, 5)), []
    rows = ranked_features(ranked)
    return rows, [truth is not None and int(order[r]) == truth for r in range(len(rows))]


def fit_gate(
    entry_of_row: list[str],
    group_of_row: list[str],
    matrix: np.ndarray,
    answers: list[tuple[str, np.ndarray]],
    general: np.ndarray,
) -> FaqGate:
    """Fit on the FAQ's own phrasings (rows of ``matrix``, unit vectors), answers and general text.

    ``group_of_row`` names a phrasing's rows (itself and a diacritics-folded copy), left out together.
    """
    if not entry_of_row:
        return FaqGate(None)
    ids = sorted(set(entry_of_row))
    index = {entry_id: i for i, entry_id in enumerate(ids)}
    entry = np.array([index[e] for e in entry_of_row])
    group = np.array(group_of_row)
    firsts = [i for i, g in enumerate(group_of_row) if i == group_of_row.index(g)]
    queries = matrix[firsts]
    sims = queries @ matrix.T
    same_group = group[firsts][:, None] == group[None, :]
    same_entry = entry[firsts][:, None] == entry[None, :]
    loo_phrasing = entry_scores(sims, entry, len(ids), same_group)
    loo_entry = entry_scores(sims, entry, len(ids), same_entry)

    features: list[np.ndarray] = []
    labels: list[bool] = []
    weights: list[float] = []
    positives: list[tuple[np.ndarray, int]] = []
    negatives: list[np.ndarray] = []
    confusion: Counter = Counter()
    phrasings = Counter(entry_of_row[i] for i in firsts)
    for q, row in enumerate(firsts):
        truth = int(entry[row])
        if np.isfinite(loo_phrasing[q, truth]):  # the entry has another phrasing to be found by
            positives.append((loo_phrasing[q], truth))
            best = int(np.argmax(loo_phrasing[q]))
            if best != truth:
                confusion[(ids[truth], ids[best])] += 1
        negatives.append(loo_entry[q])
    if answers:
        answer_sims = np.stack([v for _, v in answers]) @ matrix.T
        no_exclusion = np.zeros_like(answer_sims, dtype=bool)
        answer_scores = entry_scores(answer_sims, entry, len(ids), no_exclusion)
        positives += [(answer_scores[i], index[e]) for i, (e, _) in enumerate(answers) if e in index]
    if len(general):
        general_sims = general @ matrix.T
        negatives += list(entry_scores(general_sims, entry, len(ids), np.zeros_like(general_sims, dtype=bool)))
    for kind, items in ((True, positives), (False, negatives)):
        weight = 1.0 / max(len(items), 1)
        for item in items:
            scores, truth = item if kind else (item, None)
            rows, correct = _candidate_rows(scores, truth)
            features.append(rows)
            labels += correct
            weights += [weight] * len(correct)
    calibrator = None
    if positives and negatives:
        w = np.asarray(weights)
        calibrator = fit_calibrator(np.vstack(features), labels, w * len(w) / w.sum())
    confusions = tuple(
        (a, b, n, phrasings[a]) for (a, b), n in sorted(confusion.items(), key=lambda item: -item[1])
    )
    return FaqGate(calibrator, confusions)


# kb check: an entry needs a few phrasings per language to be found by other wordings,
# and entries whose left-out phrasings mostly land on another entry cannot be told apart.
MIN_PHRASINGS = 3
MAX_CONFUSED_SHARE = 0.5


def gate_issues(entries: list[FaqEntry], gate: FaqGate) -> list[Issue]:
    """Warnings from the fitted gate: too few phrasings, entries too close to tell apart."""
    by_id = {e.id: e for e in entries}
    issues: list[Issue] = []
    for entry in entries:
        for lang, text in sorted(entry.texts.items()):
            if len(text.questions) < MIN_PHRASINGS:
                issues.append(
                    Issue(
                        entry.source,
                        entry.line,
                        f"'{entry.id}' has {len(text.questions)} {lang} phrasing(s); with fewer than "
                        f"{MIN_PHRASINGS} other wordings of the question are hard to recognise: add some",
                        "warning",
                    )
                )
    for a, b, n, total in gate.confusions:
        if a in by_id and b in by_id and total >= 2 and n / total >= MAX_CONFUSED_SHARE:
            entry = by_id[a]
            issues.append(
                Issue(
                    entry.source,
                    entry.line,
                    f"'{a}' and '{b}' are too close to tell apart: {n} of {total} phrasings of '{a}', "
                    f"left out, are answered by '{b}'; merge them or make the questions more distinct",
                    "warning",
                )
            )
    return issues
