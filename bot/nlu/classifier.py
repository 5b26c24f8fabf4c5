"""Intent classifier on multilingual sentence embeddings plus character n-grams.

Logistic regression gives calibrated probabilities, which the FallbackClassifier
and the routing thresholds rely on. Weights are stored as plain arrays (no pickle).
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

log = logging.getLogger(__name__)


def _dense(message: Message) -> np.ndarray | None:
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else sentence.features[0]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmbeddingIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 30.0, "dense_weight": 2.0, "min_df": 2, "max_iter": 2000, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizer: TfidfVectorizer | None = None,
        model: LogisticRegression | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.vectorizer = vectorizer
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmbeddingIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self, messages: list[Message]) -> csr_matrix:
        texts = [m.get(TEXT) or "" for m in messages]
        dense = np.stack([_dense(m) for m in messages]) * float(self.config["dense_weight"])
        return hstack([csr_matrix(dense), self.vectorizer.transform(texts)]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and _dense(m) is not None]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            log.warning("EmbeddingIntentClassifier needs at least two intents; skipping training")
            return self._resource
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), min_df=int(self.config["min_df"]), sublinear_tf=True
        ).fit([m.get(TEXT) for m in examples])
        self.model = LogisticRegression(
            C=float(self.config["C"]), max_iter=int(self.config["max_iter"]), class_weight="balanced"
        ).fit(self._features(examples), labels)
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
        for message, row in zip(usable, probabilities, strict=True):
            order = np.argsort(-row)[: int(self.config["ranking_length"])]
            ranking = [{"name": str(classes[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._storage.write_to(self._resource) as directory:
            np.savez(
                directory / "weights.npz",
                coef=self.model.coef_,
                intercept=self.model.intercept_,
                idf=self.vectorizer.idf_,
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
        return cls(config, model_storage, resource, vectorizer, model)
