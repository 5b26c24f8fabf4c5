"""Calibrated probabilities: "how likely is this option the right one", for intents and FAQ entries.

Both the intent classifier (bot.nlu.classifier) and each FAQ's answer gate (bot.kb.gate)
score a message's best two or three options. A raw score means different things in
different places (an e5 cosine of 0.9 is a clear match in one FAQ and a coin toss in a
dense one), so each is turned into P(option is right) by a small logistic regression
fitted on held-out predictions: cross-validation folds of the NLU training data, and
leave-one-out queries of the FAQ itself. The router (bot.routing) then compares these
probabilities with one number, ``routing.max_risk``.

The model is a handful of floats, stored as plain arrays next to what it calibrates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

# How many of the best options get a calibrated probability (a "did you mean" offers <= 3).
CANDIDATES = 3


@dataclass(frozen=True)
class Calibrator:
    """Standardise the features, then a logistic regression: P(option is right)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        features = np.atleast_2d(np.asarray(features, dtype=np.float64))
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def as_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}mean": self.mean,
            f"{prefix}scale": self.scale,
            f"{prefix}coef": self.coef,
            f"{prefix}intercept": np.array([self.intercept]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray] | np.lib.npyio.NpzFile, prefix: str) -> Calibrator | None:
        keys = [f"{prefix}{name}" for name in ("mean", "scale", "coef", "intercept")]
        if any(key not in arrays for key in keys):
            return None
        mean, scale, coef, intercept = (np.asarray(arrays[key], dtype=np.float64) for key in keys)
        return cls(mean, scale, coef, float(intercept.ravel()[0]))

    def as_dict(self) -> dict[str, list[float] | float]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )


def fit_calibrator(
    features: np.ndarray, labels: Sequence[bool], weights: np.ndarray | None = None, c: float = 1.0
) -> Calibrator:
    """A logistic regression on standardised features (lightly regularised: a few thousand rows)."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=int)
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    if len(set(y.tolist())) < 2:  # nothing to tell apart: a constant probability
        p = float(np.clip(y.mean() if len(y) else 0.5, 0.02, 0.98))
        return Calibrator(mean, scale, np.zeros(x.shape[1]), float(np.log(p / (1 - p))))
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y, sample_weight=weights)
    return Calibrator(mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def ranked_features(scores: Sequence[float], extra: Sequence[float] = ()) -> np.ndarray:
    """One row per candidate among the best ``CANDIDATES`` of descending ``scores``.

    Per candidate: its score, its gap to the best other option (negative below the top),
    its lead over the mean of the rest, its rank, then message-level ``extra`` features.
    """
    scores = [float(s) for s in scores]
    rows = []
    for rank in range(min(CANDIDATES, len(scores))):
        own = scores[rank]
        others = scores[:rank] + scores[rank + 1 :]
        best_other = others[0] if others else 0.0
        rest = others[:4]
        lead = own - (sum(rest) / len(rest) if rest else 0.0)
        rows.append([own, own - best_other, lead, float(rank == 0), float(rank == 1), *extra])
    return np.asarray(rows, dtype=np.float64)


def expected_calibration_error(probabilities: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean |confidence - accuracy| over equal-width bins, weighted by bin size."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if not len(p):
        return float("nan")
    edges = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = edges == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return total / len(p)
