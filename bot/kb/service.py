"""The live knowledge base: loads, validates, indexes and hot-reloads FAQ files.

A new index is built aside and swapped in with one reference assignment, so
readers see either the old snapshot or the new one, never a half-built index.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from filelock import FileLock

from bot.kb.duplicates import find_near_duplicates
from bot.kb.embedder import Embedder
from bot.kb.index import EntryHit, FaqIndex, build_index, load_saved_index
from bot.kb.loader import LoadResult, faq_files, load_directory, load_file
from bot.kb.publish import new_misroutes
from bot.kb.retrieval import AnswerGate, Bm25Retriever, DenseRetriever, FaqDecision, QueryEmbedder
from bot.kb.schema import FaqEntry, Issue
from bot.settings import GateConfig

log = logging.getLogger(__name__)


def validate(directory: Path, languages: tuple[str, ...] | None = None) -> LoadResult:
    """Load plus the cross-entry checks (near-duplicate questions)."""
    result = load_directory(directory, languages)
    result.issues.extend(find_near_duplicates(result.entries))
    failed = result.failed_files()
    result.entries = [e for e in result.entries if e.source not in failed]
    return result


class LastGoodFiles:
    """The last version of each FAQ file that loaded without errors.

    A file with errors is served from its last good version while every other
    file's edits go live: one editor's typo does not stop the others' work. The
    copies live next to the index (``last_good/``), so a restart with a broken
    file still serves its last good entries; without an index folder, in memory.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._texts: dict[str, str] = {}

    def remember(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        if self._texts.get(path.name) == text:
            return
        self._texts[path.name] = text
        if self.folder is not None:
            with contextlib.suppress(OSError):
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = self.folder / f".{path.name}.tmp"
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(self.folder / path.name)

    def entries_of(self, path: Path) -> list[FaqEntry]:
        """The entries of the file's last good version (named after the real file), or none."""
        text = self._texts.get(path.name)
        if text is None and self.folder is not None and (self.folder / path.name).is_file():
            text = (self.folder / path.name).read_text(encoding="utf-8")
        if text is None:
            return []
        with tempfile.TemporaryDirectory(prefix="kb-last-good-") as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(text, encoding="utf-8")
            entries, issues = load_file(copy)
        if any(i.severity == "error" for i in issues):
            return []
        return [replace(e, source=str(path)) for e in entries]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def with_last_good(result: LoadResult, last_good: LastGoodFiles, remember: bool = True) -> list[str]:
    """Put each failed file's last good entries into ``result``; returns the files kept that way."""
    failed = result.failed_files()
    for path in result.files:
        if remember and str(path) not in failed:
            last_good.remember(path)
    kept = []
    taken = {e.id for e in result.entries}
    for path in result.files:
        if str(path) not in failed:
            continue
        entries = [e for e in last_good.entries_of(path) if e.id not in taken]
        if entries:
            kept.append(str(path))
            taken.update(e.id for e in entries)
            result.entries.extend(entries)
    return kept


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
        languages: tuple[str, ...] | None = None,
    ) -> None:
        """``save_index=False`` reads the index folder's vector cache but never writes it (tools).

        ``languages``: the shop's (its first one required in every entry); default all four."""
        self.directory = Path(directory)
        self.languages = languages
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
        # Per knowledge-base folder: several folders (tests, a second shop) may share an index folder.
        folder_key = hashlib.sha1(str(self.directory.resolve()).encode()).hexdigest()[:12]
        self.last_good = LastGoodFiles(
            Path(index_dir) / "last_good" / folder_key if index_dir and save_index else None
        )
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # --- loading -----------------------------------------------------------
    def load(self, progress: Callable[[int, int], None] | None = None) -> KbStatus:
        """(Re)load the folder. A file with errors serves its last good version; the others go live.

        A change that makes other entries' phrasings answer wrongly is not taken at all.
        """
        with self._reload_lock:
            fingerprint = self._current_fingerprint()
            result = validate(self.directory, self.languages)
            for issue in result.issues:
                (log.error if issue.severity == "error" else log.warning)("FAQ %s", issue)
            kept = with_last_good(result, self.last_good)
            if kept:
                log.error("FAQ files with errors serve their last good version: %s", ", ".join(kept))
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
            self._health = (result.issues + misrouted, bool(kept))
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
        result = validate(directory, self.languages)
        # Another file that is broken in the live folder too is not this change's problem: it
        # keeps serving its last good version, as the live knowledge base does.
        unchanged = {str(p) for p in result.files if _same_file(p, self.directory / p.name)}
        errors = [i for i in result.errors if i.file not in unchanged]
        if errors:
            return errors
        with_last_good(result, self.last_good, remember=False)
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

    def decide(self, text: str, max_risk: float | None = None) -> FaqDecision:
        return self.assess(self.search(text, k=5), max_risk)

    def assess(self, hits: list[EntryHit], max_risk: float | None = None) -> FaqDecision:
        """The gate fitted on this FAQ, applied to hits of ``search``."""
        return self.gate.run(hits, self.snapshot.index.gate, max_risk)

    def decide_vector(self, vector: np.ndarray, max_risk: float | None = None) -> FaqDecision:
        """The same decision for an already embedded query."""
        return self.assess(self.snapshot.dense.run(vector, 5), max_risk)

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
