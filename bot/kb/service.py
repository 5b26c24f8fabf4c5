"""The live knowledge base: loads, validates, indexes and hot-reloads FAQ files.

A new index is built aside and swapped in with one reference assignment, so
readers see either the old snapshot or the new one, never a half-built index.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock

from bot.kb.duplicates import find_near_duplicates
from bot.kb.embedder import Embedder
from bot.kb.index import EntryHit, FaqIndex, build_index, load_saved_index
from bot.kb.loader import LoadResult, faq_files, load_directory
from bot.kb.publish import new_misroutes
from bot.kb.retrieval import (
    AnswerGate,
    Bm25Retriever,
    DenseRetriever,
    FaqDecision,
    GateConfig,
    QueryEmbedder,
)
from bot.kb.schema import FaqEntry, Issue

log = logging.getLogger(__name__)


def validate(directory: Path) -> LoadResult:
    """Load plus the cross-entry checks (near-duplicate questions)."""
    result = load_directory(directory)
    result.issues.extend(find_near_duplicates(result.entries))
    failed = result.failed_files()
    result.entries = [e for e in result.entries if e.source not in failed]
    return result


@dataclass(frozen=True)
class _Snapshot:
    index: FaqIndex
    dense: DenseRetriever
    bm25: Bm25Retriever


@dataclass
class KbStatus:
    ok: bool
    entries: int
    loaded_at: float
    content_hash: str
    model: str
    issues: list[str] = field(default_factory=list)
    serving_last_good: bool = False

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.ok else "degraded",
            "entries": self.entries,
            "loaded_at": self.loaded_at,
            "content_hash": self.content_hash,
            "model": self.model,
            "issues": self.issues[:50],
            "serving_last_good": self.serving_last_good,
        }


class KnowledgeBase:
    def __init__(
        self,
        directory: Path,
        embedder: Embedder,
        index_dir: Path | None = None,
        gate: GateConfig | None = None,
        save_index: bool = True,
    ) -> None:
        """``save_index=False`` reads the index folder's vector cache but never writes it (tools)."""
        self.directory = Path(directory)
        self.embedder = embedder
        self.save_index = save_index
        self.index_dir = index_dir
        self.gate = AnswerGate(gate or GateConfig())
        self._query = QueryEmbedder(embedder)
        self._snapshot: _Snapshot | None = None
        self._fingerprint: tuple = ()
        # (issues, serving the last good index): replaced as one tuple, read without a lock.
        self._health: tuple[list[Issue], bool] = ([], False)
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # --- loading -----------------------------------------------------------
    def load(self, progress: Callable[[int, int], None] | None = None) -> KbStatus:
        """(Re)load the folder. Keeps the last good index when the new content has errors."""
        with self._reload_lock:
            fingerprint = self._current_fingerprint()
            result = validate(self.directory)
            for issue in result.issues:
                (log.error if issue.severity == "error" else log.warning)("FAQ %s", issue)
            if result.errors and self._snapshot is not None:
                self._health = (result.issues, True)
                self._fingerprint = fingerprint
                log.error("FAQ change rejected; the last good index keeps serving")
                return self.status()
            with self._index_build_lock():
                index = None
                if self.index_dir:
                    index = load_saved_index(self.index_dir, result.entries, self.embedder.name)
                if index is None:
                    index = build_index(
                        result.entries, self.embedder, self.index_dir, progress, save=self.save_index
                    )
            previous = self._snapshot.index if self._snapshot is not None else None
            misrouted = new_misroutes(previous, index) if previous is not None else []
            if any(issue.severity == "error" for issue in misrouted):
                for issue in misrouted:
                    log.error("FAQ %s", issue)
                self._health = (result.issues + misrouted, True)
                self._fingerprint = fingerprint
                log.error(
                    "FAQ change rejected: it makes other entries answer wrongly; the last good index keeps serving"
                )
                return self.status()
            self._snapshot = _Snapshot(index, DenseRetriever(index), Bm25Retriever(index))
            self._health = (result.issues + misrouted, False)
            self._fingerprint = fingerprint
            return self.status()

    def _index_build_lock(self) -> contextlib.AbstractContextManager:
        """One process embeds a changed FAQ; the others (gateway, action server, a second node)
        wait and then load what it saved, instead of all embedding the same phrasings at once."""
        if not (self.index_dir and self.save_index):
            return contextlib.nullcontext()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        # filelock polls with time.sleep, which gevent makes cooperative in the gateway.
        return FileLock(str(self.index_dir / ".build.lock"), timeout=600)

    def check_candidate(self, directory: Path) -> list[Issue]:
        """What publishing ``directory`` instead of the live folder would break (nothing is swapped)."""
        result = validate(directory)
        if result.errors:
            return result.errors
        candidate = build_index(result.entries, self.embedder, self.index_dir, save=False)
        return new_misroutes(self.snapshot.index, candidate)

    def reload_if_changed(self) -> bool:
        if self._current_fingerprint() == self._fingerprint:
            return False
        log.info("FAQ files changed; reloading")
        self.load()
        return True

    def start_watching(self, interval: float = 1.0) -> None:
        """Poll the folder; polling works on every filesystem and editor save style."""
        if self._watcher and self._watcher.is_alive():
            return

        def watch() -> None:
            while not self._stop.wait(interval):
                try:
                    self.reload_if_changed()
                except Exception:  # a reload bug must not kill the watcher
                    log.exception("FAQ reload failed; the last good index keeps serving")

        self._watcher = threading.Thread(target=watch, name="faq-watcher", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()

    def _current_fingerprint(self) -> tuple:
        if not self.directory.is_dir():
            return ()
        parts = []
        for path in faq_files(self.directory):
            try:
                stat = path.stat()
            except OSError:
                continue
            parts.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(parts)

    # --- reading -----------------------------------------------------------
    @property
    def snapshot(self) -> _Snapshot:
        if self._snapshot is None:
            self.load()
        assert self._snapshot is not None
        return self._snapshot

    def entry(self, entry_id: str) -> FaqEntry | None:
        return self.snapshot.index.entries.get(entry_id)

    def entries(self) -> list[FaqEntry]:
        return list(self.snapshot.index.entries.values())

    def search(self, text: str, k: int = 5) -> list[EntryHit]:
        snapshot = self.snapshot
        return snapshot.dense.run(self._query.run(text), k)

    def search_bm25(self, text: str, k: int = 5) -> list[EntryHit]:
        return self.snapshot.bm25.run(text, k)

    def decide(self, text: str, min_score: float | None = None) -> FaqDecision:
        return self.gate.run(self.search(text, k=5), min_score=min_score)

    def decide_vector(self, vector: np.ndarray, min_score: float | None = None) -> FaqDecision:
        """The same decision for an already embedded query."""
        return self.gate.run(self.snapshot.dense.run(vector, 5), min_score=min_score)

    def status(self) -> KbStatus:
        snapshot = self._snapshot
        issues, serving_last_good = self._health
        errors = [i for i in issues if i.severity == "error"]
        return KbStatus(
            ok=snapshot is not None and not errors,
            entries=len(snapshot.index.entries) if snapshot else 0,
            loaded_at=snapshot.index.manifest.built_at if snapshot else 0.0,
            content_hash=snapshot.index.manifest.content_hash if snapshot else "",
            model=self.embedder.name,
            issues=[str(i) for i in issues],
            serving_last_good=serving_last_good,
        )
