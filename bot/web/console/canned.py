"""Canned answers (``/shortcode`` in the reply box), loaded and validated from a YAML data file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb.schema import LANGUAGES

SHORTCODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class CannedError(ValueError):
    """The canned answers file has problems; the message lists each one."""


@dataclass(frozen=True)
class CannedAnswer:
    shortcode: str
    title: str
    text: dict[str, str]

    def for_language(self, language: str) -> dict[str, str]:
        used = language if language in self.text else "en"
        return {"shortcode": self.shortcode, "title": self.title, "text": self.text[used], "lang": used}


def parse(raw: Any, source: str = "canned answers") -> list[CannedAnswer]:
    problems: list[str] = []
    answers: list[CannedAnswer] = []
    seen: set[str] = set()
    if not isinstance(raw, list):
        raise CannedError(f"{source}: expected a list of answers")
    for n, item in enumerate(raw, 1):
        where = f"{source}: answer {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        code = item.get("shortcode")
        if not isinstance(code, str) or not SHORTCODE.match(code):
            problems.append(f"{where}: shortcode must be 1-32 lowercase letters, digits or dashes")
            continue
        where = f"{source}: /{code}"
        if code in seen:
            problems.append(f"{where}: duplicate shortcode")
        seen.add(code)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{where}: title is missing")
        texts = item.get("text")
        if not isinstance(texts, dict):
            problems.append(f"{where}: text must map each language to the answer")
            continue
        for language in LANGUAGES:
            value = texts.get(language)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: no text in {language}")
        unknown = sorted(set(texts) - set(LANGUAGES))
        if unknown:
            problems.append(f"{where}: unknown language(s) {', '.join(map(str, unknown))}")
        answers.append(CannedAnswer(code, str(title or code), {k: str(v).strip() for k, v in texts.items()}))
    if problems:
        raise CannedError("\n".join(problems))
    return answers


def load(path: Path) -> list[CannedAnswer]:
    """The answers in ``path`` (none when the file does not exist); CannedError on any problem."""
    if not path.exists():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CannedError(f"{path}: not valid YAML: {exc}") from None
    return parse(raw, str(path))
