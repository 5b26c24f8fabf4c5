"""FAISS index over every phrasing of every entry, persisted with a manifest.

Vectors are cached per (model, text), so a rebuild embeds only what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from bot.kb.embedder import Embedder, text_key
from bot.kb.gate import FaqGate, answer_query, fit_gate, general_sentences
from bot.kb.schema import FaqEntry

log = logging.getLogger(__name__)

# Above this many vectors an HNSW graph keeps search in the low milliseconds.
HNSW_MIN_VECTORS = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 128
# An entry scores the mean of its best few phrasings: steadier than the single best.
TOP_PHRASINGS = 3
# Slovak customers often type without diacritics; index a folded copy of those phrasings.
FOLDED_LANGUAGES = frozenset({"sk"})
# Bumped whenever the way rows are built or encoded changes: old indexes are rebuilt.
INDEX_SCHEME = "query-top3-foldsk-gate1"


def fold_diacritics(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Row:
    entry_id: str
    lang: str
    question: str


@dataclass(frozen=True)
class Manifest:
    model: str
    content_hash: str
    built_at: float
    entries: int
    vectors: int
    index_type: str


@dataclass(frozen=True)
class EntryHit:
    entry_id: str
    score: float
    matched_question: str
    matched_lang: str


def content_hash(entries: Iterable[FaqEntry]) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        for lang in sorted(entry.texts):
            text = entry.texts[lang]
            digest.update(f"{entry.id}\x00{lang}\x00{text.answer}\x00".encode())
            for question in text.questions:
                digest.update(question.encode() + b"\x01")
    return digest.hexdigest()[:24]


def build_faiss(vectors: np.ndarray) -> faiss.Index:
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 384
    if vectors.shape[0] >= HNSW_MIN_VECTORS:
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    if vectors.shape[0]:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class FaqIndex:
    """An immutable snapshot: entries, their phrasing rows and the FAISS index."""

    def __init__(
        self,
        entries: list[FaqEntry],
        rows: list[Row],
        index: faiss.Index,
        manifest: Manifest,
        gate: FaqGate | None = None,
    ) -> None:
        self.gate = gate or FaqGate(None)  # fitted on this FAQ (bot.kb.gate)
        self.entries = {e.id: e for e in entries}
        self.rows = rows
        self.phrasings: dict[str, int] = {}
        for row in rows:
            self.phrasings[row.entry_id] = self.phrasings.get(row.entry_id, 0) + 1
        self.index = index
        self.manifest = manifest

    def search(self, query: np.ndarray, k: int = 5) -> list[EntryHit]:
        """Best entries for one query vector, scored by the mean of their top phrasings."""
        if self.index.ntotal == 0:
            return []
        depth = min(self.index.ntotal, max(k * 40, 256))
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1)), depth)
        floor = float(scores[0][-1])  # phrasings beyond the depth score at most this
        grouped: dict[str, list[float]] = {}
        first: dict[str, Row] = {}
        for score, row_id in zip(scores[0], ids[0], strict=True):
            if row_id < 0:
                continue
            row = self.rows[row_id]
            grouped.setdefault(row.entry_id, []).append(float(score))
            first.setdefault(row.entry_id, row)
        hits = []
        for entry_id, found in grouped.items():
            top = found[:TOP_PHRASINGS]
            top += [min(floor, top[-1])] * (min(TOP_PHRASINGS, self.phrasings[entry_id]) - len(top))
            row = first[entry_id]
            hits.append(EntryHit(entry_id, sum(top) / len(top), row.question, row.lang))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]


class VectorCache:
    """Embeddings keyed by (model, text) on disk, so edits re-embed only new phrasings."""

    def __init__(self, directory: Path | None) -> None:
        self._path = directory / "vectors.npz" if directory else None
        self._vectors: dict[str, np.ndarray] = {}
        if self._path and self._path.exists():
            try:
                with np.load(self._path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable vector cache %s: %s", self._path, exc)

    def get(self, key: str) -> np.ndarray | None:
        return self._vectors.get(key)

    def put(self, key: str, vector: np.ndarray) -> None:
        self._vectors[key] = vector

    def save(self, keep: set[str] | None = None) -> None:
        """Persist the vectors; ``keep`` drops the keys no longer in use."""
        if not self._path:
            return
        keys = [k for k in self._vectors if keep is None or k in keep]
        vectors = np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 1))
        _atomic_write(self._path, lambda f: np.savez(f, keys=np.array(keys), vectors=vectors))


_GENERAL_VECTORS: dict[str, np.ndarray] = {}


def phrasing_rows(entries: list[FaqEntry]) -> list[Row]:
    rows = []
    for entry in entries:
        for lang, text in sorted(entry.texts.items()):
            for question in text.questions:
                rows.append(Row(entry.id, lang, question))
                folded = fold_diacritics(question) if lang in FOLDED_LANGUAGES else question
                if folded != question:
                    rows.append(Row(entry.id, lang, folded))
    return rows


def build_index(
    entries: list[FaqEntry],
    embedder: Embedder,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 64,
    save: bool = True,
) -> FaqIndex:
    """Embed every phrasing (reusing cached vectors) and build a fresh FAISS index.

    ``save=False`` builds a candidate aside: the cache is read, nothing is written.
    """
    rows = phrasing_rows(entries)
    cache = VectorCache(cache_dir)
    # Phrasings are encoded like queries: question-to-question matching is symmetric.
    # The gate is fitted on the answers' first sentences and general text too (bot.kb.gate).
    langs = sorted({r.lang for r in rows})
    answers = [(e.id, answer_query(t.answer)) for e in entries for _, t in sorted(e.texts.items())]
    answers = [(entry_id, text) for entry_id, text in answers if text]
    general = [s for lang in langs for s in general_sentences(lang)]
    texts = [r.question for r in rows] + [t for _, t in answers] + general
    keys = [text_key(embedder.name, "query", t) for t in texts]
    for key in keys[len(texts) - len(general) :]:  # the same for every FAQ: embedded once per process
        if cache.get(key) is None and key in _GENERAL_VECTORS:
            cache.put(key, _GENERAL_VECTORS[key])
    todo = sorted({key: i for i, key in enumerate(keys) if cache.get(key) is None}.values())
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        vectors = embedder.embed_queries([texts[i] for i in batch])
        for i, vector in zip(batch, vectors, strict=True):
            cache.put(keys[i], vector)
        if progress:
            progress(min(start + batch_size, len(todo)), len(todo))
    everything = (
        np.stack([cache.get(k) for k in keys]).astype(np.float32)
        if keys
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    for key, vector in zip(keys[len(texts) - len(general) :], everything[len(texts) - len(general) :], strict=True):
        _GENERAL_VECTORS[key] = vector
    matrix = everything[: len(rows)]
    gate = fit_gate(
        [r.entry_id for r in rows],
        [f"{r.entry_id}|{r.lang}|{fold_diacritics(r.question).casefold()}" for r in rows],
        matrix,
        [(entry_id, everything[len(rows) + i]) for i, (entry_id, _) in enumerate(answers)],
        everything[len(rows) + len(answers) :],
    )
    index = build_faiss(matrix)
    manifest = Manifest(
        model=f"{embedder.name}|{INDEX_SCHEME}",
        content_hash=content_hash(entries),
        built_at=time.time(),
        entries=len(entries),
        vectors=len(rows),
        index_type=type(index).__name__,
    )
    if cache_dir and save:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.save(set(keys))
        save_index(FaqIndex(entries, rows, index, manifest, gate), cache_dir)
    log.info("built FAQ index: %d entries, %d phrasings, %d embedded", len(entries), len(rows), len(todo))
    return FaqIndex(entries, rows, index, manifest, gate)


def save_index(faq_index: FaqIndex, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(
        directory / "faq.faiss", lambda f: f.write(faiss.serialize_index(faq_index.index).tobytes())
    )
    payload = {
        "manifest": asdict(faq_index.manifest),
        "rows": [asdict(r) for r in faq_index.rows],
        "gate": faq_index.gate.as_dict(),
    }
    _atomic_write(directory / "manifest.json", lambda f: f.write(json.dumps(payload).encode()))


def load_saved_index(directory: Path, entries: list[FaqEntry], model: str) -> FaqIndex | None:
    """The persisted index if it was built from exactly these entries with this model."""
    try:
        payload = json.loads((directory / "manifest.json").read_text())
        manifest = Manifest(**payload["manifest"])
        if manifest.model != f"{model}|{INDEX_SCHEME}" or manifest.content_hash != content_hash(entries):
            return None
        raw = np.frombuffer((directory / "faq.faiss").read_bytes(), dtype=np.uint8)
        index = faiss.deserialize_index(raw)
        rows = [Row(**r) for r in payload["rows"]]
        gate = FaqGate.from_dict(payload["gate"])
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None
    if index.ntotal != len(rows):
        return None
    return FaqIndex(entries, rows, index, manifest, gate)


def _atomic_write(path: Path, write: Callable) -> None:
    """Write to a temp file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
