"""Intent classifier on multilingual sentence embeddings plus character n-grams.

Logistic regression gives calibrated probabilities, which the FallbackClassifier
and the routing thresholds rely on. Weights are stored as plain arrays (no pickle).

The raw probabilities of the best three intents are then calibrated (bot.calibration):
during training, three cross-validation folds predict held-out examples, and a small
logistic regression learns P(intent is right) from the ranking, the distance to the
training data, the language detector's confidence and the message length. The ranking's
``confidence`` is that probability (``raw`` keeps the classifier's own).

It also reports how close a message is to the training data (``domain``: the mean
cosine of the nearest in-domain and the nearest out-of-scope examples), a signal
the router combines with the intent and the FAQ score: a message far from every
in-domain example is out of scope even when the classifier has to pick an intent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bot.calibration import CANDIDATES, Calibrator, fit_calibrator, ranked_features
from bot.nlu.language import detect_language

log = logging.getLogger(__name__)
DOMAIN_KEY = "domain"
OUT_OF_SCOPE = "out_of_scope"
FAQ = "faq"
# Intents that start a flow: a wrong one is costly, so the calibrator knows them apart.
FLOW_INTENTS = frozenset(
    {"order_status", "return_request", "password_reset", "request_human", "complaint", "cancel_order"}
)
CALIBRATION_FOLDS = 3


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-9)


def nearest_mean(vectors: np.ndarray, bank: np.ndarray, k: int) -> np.ndarray:
    """Per row of ``vectors``: the mean cosine of its ``k`` nearest rows in ``bank``."""
    if bank.size == 0:
        return np.zeros(len(vectors))
    sims = vectors @ bank.T
    k = min(k, bank.shape[0])
    top = -np.partition(-sims, k - 1, axis=1)[:, :k]
    return top.mean(axis=1)


def message_features(text: str, lean: float, in_domain: float) -> list[float]:
    """What the calibrator knows about the message besides the ranking."""
    detection = detect_language(text) if text else None
    words = len(text.split())
    return [lean, in_domain, detection.confidence if detection else 0.0, float(np.log1p(words))]


def intent_features(ranking: list[tuple[str, float]], message: list[float]) -> np.ndarray:
    """One row per candidate intent (best first): its ranking features, the message's, its kind."""
    rows = ranked_features([p for _, p in ranking], message)
    kinds = [[float(n == OUT_OF_SCOPE), float(n == FAQ), float(n in FLOW_INTENTS)] for n, _ in ranking]
    return np.hstack([rows, np.asarray(kinds[: len(rows)], dtype=np.float64)])


def _dense(message: Message) -> np.ndarray | None:
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else sentence.features[0]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 30.0,
            "dense_weight": 2.0,
            "min_df": 2,
            "max_iter": 2000,
            "ranking_length": 10,
            "neighbours": 3,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizer: TfidfVectorizer | None = None,
        model: LogisticRegression | None = None,
        in_domain: np.ndarray | None = None,
        out_of_scope: np.ndarray | None = None,
        calibrator: Calibrator | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.vectorizer = vectorizer
        self.model = model
        # Unit vectors of the training examples, split by in-domain / out of scope
        # (float16 on disk, float32 in memory: converting per message cost 8 % of Rasa's CPU).
        self.in_domain = np.zeros((0, 0), dtype=np.float32) if in_domain is None else in_domain
        self.out_of_scope = np.zeros((0, 0), dtype=np.float32) if out_of_scope is None else out_of_scope
        self._in_domain32 = self.in_domain.astype(np.float32)
        self._out_of_scope32 = self.out_of_scope.astype(np.float32)
        self.calibrator = calibrator

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmbeddingIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self, messages: list[Message], vectorizer: TfidfVectorizer | None = None) -> csr_matrix:
        texts = [m.get(TEXT) or "" for m in messages]
        dense = np.stack([_dense(m) for m in messages]) * float(self.config["dense_weight"])
        return hstack([csr_matrix(dense), (vectorizer or self.vectorizer).transform(texts)]).tocsr()

    def _fit(self, examples: list[Message], labels: list[str]) -> tuple[TfidfVectorizer, LogisticRegression]:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), min_df=int(self.config["min_df"]), sublinear_tf=True
        ).fit([m.get(TEXT) for m in examples])
        model = LogisticRegression(
            C=float(self.config["C"]), max_iter=int(self.config["max_iter"]), class_weight="balanced"
        ).fit(self._features(examples, vectorizer), labels)
        return vectorizer, model

    def _fit_calibrator(self, examples: list[Message], labels: list[str]) -> Calibrator:
        """Held-out predictions of CALIBRATION_FOLDS folds -> P(candidate intent is right)."""
        y = np.array(labels)
        vectors = _unit(np.stack([_dense(m) for m in examples])).astype(np.float32)
        oos = y == OUT_OF_SCOPE
        folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0)
        features, correct = [], []
        for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
            train = [examples[i] for i in train_idx]
            vectorizer, model = self._fit(train, list(y[train_idx]))
            held_out = [examples[i] for i in test_idx]
            probabilities = model.predict_proba(self._features(held_out, vectorizer))
            k = int(self.config["neighbours"])
            bank_in, bank_out = vectors[train_idx][~oos[train_idx]], vectors[train_idx][oos[train_idx]]
            near_in = nearest_mean(vectors[test_idx], bank_in, k)
            near_out = nearest_mean(vectors[test_idx], bank_out, k)
            for row, i, a, b in zip(probabilities, test_idx, near_in, near_out, strict=True):
                order = np.argsort(-row)[:CANDIDATES + 2]
                ranking = [(str(model.classes_[j]), float(row[j])) for j in order]
                text = examples[i].get(TEXT) or ""
                rows = intent_features(ranking, message_features(text, float(b - a), float(a)))
                features.append(rows)
                correct += [name == y[i] for name, _ in ranking[: len(rows)]]
        return fit_calibrator(np.vstack(features), correct)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and _dense(m) is not None]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            log.warning("EmbeddingIntentClassifier needs at least two intents; skipping training")
            return self._resource
        self.calibrator = self._fit_calibrator(examples, labels)
        self.vectorizer, self.model = self._fit(examples, labels)
        vectors = _unit(np.stack([_dense(m) for m in examples])).astype(np.float16)
        oos = np.array([label == OUT_OF_SCOPE for label in labels])
        self.in_domain, self.out_of_scope = vectors[~oos], vectors[oos]
        self._in_domain32 = self.in_domain.astype(np.float32)
        self._out_of_scope32 = self.out_of_scope.astype(np.float32)
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None or self.vectorizer is None:
            return messages
        usable = [m for m in messages if m.get(TEXT) and _dense(m) is not None]
        if not usable:
            return messages
        probabilities = self.model.predict_proba(self._features(usable))
        classes = self.model.classes_
        domain = self._domain(np.stack([_dense(m) for m in usable]))
        for message, row, near in zip(usable, probabilities, domain, strict=True):
            order = np.argsort(-row)[: int(self.config["ranking_length"])]
            ranking = [{"name": str(classes[i]), "confidence": float(row[i])} for i in order]
            ranking = self._calibrated(message.get(TEXT) or "", ranking, near)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if near is not None:
                message.set(DOMAIN_KEY, near, add_to_output=True)
        return messages

    def _calibrated(
        self, text: str, ranking: list[dict[str, Any]], near: dict[str, float] | None
    ) -> list[dict[str, Any]]:
        """The best candidates' confidence becomes P(right); ``raw`` keeps the classifier's."""
        if self.calibrator is None or near is None:
            return ranking
        pairs = [(r["name"], r["confidence"]) for r in ranking]
        extra = message_features(text, near["out_of_scope"] - near["in_domain"], near["in_domain"])
        calibrated = self.calibrator.probability(intent_features(pairs, extra))
        head = [
            {"name": r["name"], "confidence": round(float(p), 4), "raw": round(r["confidence"], 4)}
            for r, p in zip(ranking, calibrated, strict=False)
        ]
        floor = min(h["confidence"] for h in head)
        tail = [{**r, "confidence": min(r["confidence"], floor)} for r in ranking[len(head) :]]
        return sorted(head, key=lambda r: -r["confidence"]) + tail

    def _domain(self, dense: np.ndarray) -> list[dict[str, float] | None]:
        if self.in_domain.size == 0:
            return [None] * len(dense)
        vectors = _unit(dense.astype(np.float32))
        k = int(self.config["neighbours"])
        near_in = nearest_mean(vectors, self._in_domain32, k)
        near_out = nearest_mean(vectors, self._out_of_scope32, k)
        return [
            {"in_domain": round(float(a), 4), "out_of_scope": round(float(b), 4)}
            for a, b in zip(near_in, near_out, strict=True)
        ]

    def persist(self) -> None:
        with self._storage.write_to(self._resource) as directory:
            np.savez(
                directory / "weights.npz",
                coef=self.model.coef_,
                intercept=self.model.intercept_,
                idf=self.vectorizer.idf_,
                in_domain=self.in_domain,
                out_of_scope=self.out_of_scope,
                **(self.calibrator.as_arrays("calibration_") if self.calibrator else {}),
            )
            (directory / "meta.json").write_text(
                json.dumps(
                    {
                        "classes": [str(c) for c in self.model.classes_],
                        "vocabulary": {k: int(v) for k, v in self.vectorizer.vocabulary_.items()},
                        "min_df": int(self.config["min_df"]),
                    }
                )
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EmbeddingIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                weights = np.load(directory / "weights.npz")
                meta = json.loads((directory / "meta.json").read_text())
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        vectorizer.vocabulary_ = meta["vocabulary"]
        vectorizer.idf_ = weights["idf"]
        model = LogisticRegression()
        model.classes_ = np.array(meta["classes"])
        model.coef_ = weights["coef"]
        model.intercept_ = weights["intercept"]
        in_domain = weights["in_domain"] if "in_domain" in weights.files else None
        out_of_scope = weights["out_of_scope"] if "out_of_scope" in weights.files else None
        calibrator = Calibrator.from_arrays(weights, "calibration_")
        return cls(config, model_storage, resource, vectorizer, model, in_domain, out_of_scope, calibrator)
