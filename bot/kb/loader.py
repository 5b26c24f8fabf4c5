"""Load FAQ YAML files into entries, reporting every problem as file:line.

A broken file never raises: its problems become :class:`Issue` objects and the
valid entries of the other files are still returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.kb.schema import FALLBACK_LANGUAGE, LANGUAGES, FaqEntry, Issue, Link, LocalizedText
from bot.kb.yaml_errors import describe as describe_yaml_error

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 4000
_LINE = "__line__"
_ITEM_LINES = "__item_lines__"
_KEY_LINES = "__key_lines__"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping, key and list item."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_KEY_LINES] = {}
        mapping[_ITEM_LINES] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            mapping[_KEY_LINES][key] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.SequenceNode):
                mapping[_ITEM_LINES][key] = [n.start_mark.line + 1 for n in value_node.value]
        return mapping


@dataclass
class LoadResult:
    entries: list[FaqEntry] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def failed_files(self) -> set[str]:
        return {i.file for i in self.errors}


def faq_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yml") if p.is_file()) + sorted(
        p for p in directory.glob("*.yaml") if p.is_file()
    )


def load_directory(directory: Path, languages: tuple[str, ...] | None = None) -> LoadResult:
    """Load and validate every ``*.yml`` file in ``directory``.

    ``languages``: the ones the shop offers (shop.yml), the first required; default: all four,
    English required.
    """
    result = LoadResult()
    if not directory.is_dir():
        result.issues.append(Issue(str(directory), 0, "knowledge base folder does not exist"))
        return result
    seen: dict[str, FaqEntry] = {}
    for path in faq_files(directory):
        result.files.append(path)
        entries, issues = load_file(path, languages)
        result.issues.extend(issues)
        for entry in entries:
            if entry.id in seen:
                first = seen[entry.id]
                result.issues.append(
                    Issue(
                        entry.source,
                        entry.line,
                        f"duplicate id '{entry.id}' (first defined at {first.source}:{first.line})",
                    )
                )
                continue
            seen[entry.id] = entry
            result.entries.append(entry)
    # A file with errors contributes nothing: half a file is worse than none.
    failed = result.failed_files()
    result.entries = [e for e in result.entries if e.source not in failed]
    return result


def load_file(path: Path, languages: tuple[str, ...] | None = None) -> tuple[list[FaqEntry], list[Issue]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Issue(name, 0, f"cannot read file: {exc}")]
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        problem = describe_yaml_error(text, exc)
        return [], [Issue(name, problem.line, problem.message)]
    if data is None:
        return [], [Issue(name, 1, "file is empty; expected a mapping with 'entries:'", "warning")]
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        return [], [Issue(name, 1, "top level must be a mapping with an 'entries:' list")]
    entries: list[FaqEntry] = []
    issues: list[Issue] = []
    item_lines = data[_ITEM_LINES].get("entries", [])
    for index, raw in enumerate(data["entries"]):
        line = item_lines[index] if index < len(item_lines) else data[_LINE]
        entry = _parse_entry(raw, name, line, issues, languages)
        if entry is not None:
            entries.append(entry)
    return entries, issues


def _parse_entry(
    raw: Any, name: str, line: int, issues: list[Issue], languages: tuple[str, ...] | None = None
) -> FaqEntry | None:
    offered = languages or LANGUAGES
    required = offered[0] if languages else FALLBACK_LANGUAGE
    if not isinstance(raw, dict):
        issues.append(Issue(name, line, "each entry must be a mapping with id, tags and languages"))
        return None
    line = raw[_LINE]
    before = len([i for i in issues if i.severity == "error"])
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        issues.append(Issue(name, line, f"missing or invalid 'id' {entry_id!r}: use lowercase snake_case"))
        entry_id = None
    label = f"entry '{entry_id}'" if entry_id else "entry"

    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        issues.append(Issue(name, _key_line(raw, "tags"), f"{label}: 'tags' must be a list of words"))
        tags = []

    links = _parse_links(raw, name, label, issues)
    texts: dict[str, LocalizedText] = {}
    for lang in LANGUAGES:
        if lang not in raw:
            if lang not in offered:
                continue  # a language the shop does not offer
            severity = "error" if lang == required else "warning"
            hint = "" if severity == "error" else f" ('{required}' is shown instead)"
            issues.append(Issue(name, line, f"{label}: missing language '{lang}'{hint}", severity))
            continue
        localized = _parse_language(raw, lang, name, label, issues)
        if localized is not None:
            texts[lang] = localized
    unknown = [k for k in raw if not k.startswith("__") and k not in {"id", "tags", "links", *LANGUAGES}]
    for key in unknown:
        issues.append(Issue(name, _key_line(raw, key), f"{label}: unknown field '{key}'", "warning"))
    if entry_id is None or len([i for i in issues if i.severity == "error"]) > before:
        return None
    return FaqEntry(
        id=entry_id,
        texts=texts,
        tags=tuple(tags),
        links=tuple(links),
        source=name,
        line=line,
    )


def _parse_links(raw: dict, name: str, label: str, issues: list[Issue]) -> list[Link]:
    links_raw = raw.get("links", [])
    links: list[Link] = []
    if not isinstance(links_raw, list):
        issues.append(Issue(name, _key_line(raw, "links"), f"{label}: 'links' must be a list"))
        return links
    for item in links_raw:
        ok = isinstance(item, dict) and isinstance(item.get("title"), str)
        url = item.get("url") if isinstance(item, dict) else None
        if not ok or not isinstance(url, str) or not url.startswith(("https://", "http://", "/")):
            where = item[_LINE] if isinstance(item, dict) else _key_line(raw, "links")
            issues.append(Issue(name, where, f"{label}: each link needs a 'title' and an http(s) 'url'"))
            continue
        links.append(Link(title=item["title"], url=url))
    return links


def _parse_language(raw: dict, lang: str, name: str, label: str, issues: list[Issue]) -> LocalizedText | None:
    block = raw[lang]
    where = _key_line(raw, lang)
    if not isinstance(block, dict):
        issues.append(Issue(name, where, f"{label}: '{lang}' must contain 'questions' and 'answer'"))
        return None
    questions = block.get("questions")
    q_lines = block[_ITEM_LINES].get("questions", [])
    if not isinstance(questions, list) or not questions:
        issues.append(Issue(name, where, f"{label}: '{lang}.questions' must be a non-empty list"))
        return None
    clean: list[str] = []
    lines: list[int] = []
    for i, question in enumerate(questions):
        q_line = q_lines[i] if i < len(q_lines) else where
        if not isinstance(question, str) or not question.strip():
            issues.append(Issue(name, q_line, f"{label}: '{lang}' question must be non-empty text"))
            continue
        if len(question) > MAX_QUESTION_CHARS:
            issues.append(
                Issue(name, q_line, f"{label}: '{lang}' question longer than {MAX_QUESTION_CHARS} characters")
            )
            continue
        clean.append(question.strip())
        lines.append(q_line)
    answer = block.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        issues.append(Issue(name, where, f"{label}: '{lang}.answer' is missing or empty"))
        return None
    if len(answer) > MAX_ANSWER_CHARS:
        issues.append(
            Issue(
                name,
                _key_line(block, "answer"),
                f"{label}: '{lang}.answer' longer than {MAX_ANSWER_CHARS} characters",
            )
        )
        return None
    if len(clean) < len(questions):
        return None
    return LocalizedText(questions=tuple(clean), answer=answer.strip(), question_lines=tuple(lines))


def _key_line(mapping: dict, key: str) -> int:
    return mapping.get(_KEY_LINES, {}).get(key, mapping.get(_LINE, 0))
