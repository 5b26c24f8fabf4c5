"""Writes FAQ changes from the console into knowledge_base/ (ruamel round-trip: the rest of the file stays).

A change is written to a copy of the folder first, validated and checked for
misrouted phrasings there, and only then replaces the real file atomically;
the hot reload takes it live.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.kb.loader import ID_PATTERN, faq_files, load_directory
from bot.kb.schema import LANGUAGES, Issue

# fullmatch: with match(), "$" would also accept a name ending in a newline (never loaded).
FILE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}\.yml")


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


class EditRejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class LanguageDraft:
    questions: tuple[str, ...]
    answer: str = ""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and quoting of the other entries are kept
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def _clean(questions: list[str] | tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    out = []
    for q in questions:
        q = " ".join(q.split())
        if q and q.casefold() not in seen:
            seen.add(q.casefold())
            out.append(q)
    return out


def entry_file(directory: Path, entry_id: str) -> Path | None:
    for entry in load_directory(directory).entries:
        if entry.id == entry_id:
            return Path(entry.source)
    return None


def _find(data: Any, entry_id: str) -> CommentedMap | None:
    for item in data.get("entries") or []:
        if isinstance(item, dict) and item.get("id") == entry_id:
            return item
    return None


def add_phrasings(
    directory: Path,
    entry_id: str,
    lang: str,
    questions: list[str],
    answer: str | None = None,
    check: Callable[[Path], list[Issue]] | None = None,
) -> Path:
    """Append phrasings (and, for a missing language, its answer) to an existing entry."""
    if lang not in LANGUAGES:
        raise EditRejected([Issue(str(directory), 0, f"unknown language '{lang}'")])
    path = entry_file(directory, entry_id)
    if path is None:
        raise EditRejected([Issue(str(directory), 0, f"no entry '{entry_id}' in the knowledge base")])
    yaml = _yaml()
    data = yaml.load(path.read_text(encoding="utf-8"))
    entry = _find(data, entry_id)
    block = entry.get(lang)
    if block is None:
        if not (answer or "").strip():
            raise EditRejected(
                [Issue(str(path), 0, f"entry '{entry_id}' has no '{lang}' yet: write its answer")]
            )
        block = CommentedMap(
            [("questions", CommentedSeq()), ("answer", LiteralScalarString(answer.strip() + "\n"))]
        )
        entry[lang] = block
    existing = {q.casefold() for q in block["questions"]}
    added = [q for q in _clean(questions) if q.casefold() not in existing]
    if not added:
        raise EditRejected([Issue(str(path), 0, "these phrasings are already in the entry")])
    block["questions"].extend(added)
    return _publish(directory, path, data, check)


def add_entry(
    directory: Path,
    file_name: str,
    entry_id: str,
    tags: list[str],
    texts: dict[str, LanguageDraft],
    check: Callable[[Path], list[Issue]] | None = None,
) -> Path:
    """A new entry at the end of ``file_name`` (created when new)."""
    problems = []
    if not FILE_NAME.fullmatch(file_name):
        problems.append(Issue(file_name, 0, "file names are lowercase words ending in .yml"))
    if not ID_PATTERN.fullmatch(entry_id):
        problems.append(Issue(file_name, 0, f"invalid id '{entry_id}': use lowercase snake_case"))
    if problems:
        raise EditRejected(problems)
    path = directory / file_name
    yaml = _yaml()
    data = (
        yaml.load(path.read_text(encoding="utf-8"))
        if path.exists()
        else CommentedMap([("entries", CommentedSeq())])
    )
    entry = CommentedMap(
        [("id", entry_id), ("tags", CommentedSeq(t.strip().lower() for t in tags if t.strip()))]
    )
    for lang in LANGUAGES:
        draft = texts.get(lang)
        if draft is None or not _clean(draft.questions) or not draft.answer.strip():
            continue
        entry[lang] = CommentedMap(
            [
                ("questions", CommentedSeq(_clean(draft.questions))),
                ("answer", LiteralScalarString(draft.answer.strip() + "\n")),
            ]
        )
    data["entries"].append(entry)
    return _publish(directory, path, data, check)


def update_entry(
    directory: Path,
    entry_id: str,
    tags: list[str],
    texts: dict[str, LanguageDraft],
    check: Callable[[Path], list[Issue]] | None = None,
) -> Path:
    """Replace an entry's tags, phrasings and answers (links and everything else in the file stay).

    A language left with neither phrasings nor answer is removed (English never is:
    the loader's validation refuses an entry without it).
    """
    path = entry_file(directory, entry_id)
    if path is None:
        raise EditRejected([Issue(str(directory), 0, f"no entry '{entry_id}' in the knowledge base")])
    yaml = _yaml()
    data = yaml.load(path.read_text(encoding="utf-8"))
    entry = _find(data, entry_id)
    entry["tags"] = CommentedSeq(t.strip().lower() for t in tags if t.strip())
    entry["tags"].fa.set_flow_style()
    for lang in LANGUAGES:
        draft = texts.get(lang)
        if draft is None:
            continue
        questions, answer = _clean(draft.questions), draft.answer.strip()
        if not questions and not answer and lang != "en":
            entry.pop(lang, None)
            continue
        block = entry.get(lang)
        if not isinstance(block, CommentedMap):
            block = entry[lang] = CommentedMap()
        block["questions"] = CommentedSeq(questions)
        block["answer"] = LiteralScalarString(answer + "\n") if answer else ""
    return _publish(directory, path, data, check)


def _publish(directory: Path, path: Path, data: Any, check: Callable[[Path], list[Issue]] | None) -> Path:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    text = buffer.getvalue()
    with tempfile.TemporaryDirectory(prefix="kb-candidate-") as tmp:
        candidate = Path(tmp)
        for other in faq_files(directory):
            shutil.copy2(other, candidate / other.name)
        (candidate / path.name).write_text(text, encoding="utf-8")
        issues = check(candidate) if check else load_directory(candidate).errors
        real = [
            replace(
                i,
                file=i.file.replace(str(candidate), str(directory)),
                message=i.message.replace(str(candidate), str(directory)),
            )
            for i in issues
        ]
        errors = [i for i in real if i.severity == "error"]
        if errors:
            raise EditRejected(errors)
    write_atomically(path, text)
    return path


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a watcher never reads half a file), keeping its mode.

    mkstemp makes its file 0600: the replaced file's mode is kept (a new file gets 0666 minus the umask),
    so a file the editor touched stays readable to whoever could read it before.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
