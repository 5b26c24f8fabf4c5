"""Canned answers (``/shortcode`` in the reply box), loaded and validated from a YAML data file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb.schema import LANGUAGES
from bot.profile.model import ShopProfile
from bot.profile.render import render

SHORTCODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class CannedError(ValueError):
    """The canned answers file has problems; the message lists each one."""


@dataclass(frozen=True)
class CannedAnswer:
    shortcode: str
    title: str
    text: dict[str, str]

    def for_language(self, language: str, shop: ShopProfile | None = None) -> dict[str, str]:
        """The answer as the agent inserts it: in ``language``, the shop's facts filled in."""
        used = language if language in self.text else "en"
        text = render(self.text[used], shop, used) if shop is not None else self.text[used]
        return {"shortcode": self.shortcode, "title": self.title, "text": text, "lang": used}


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


def save_answer(path: Path, shortcode: str, title: str, texts: dict[str, str]) -> list[CannedAnswer]:
    """Replace (or add) one canned answer, keeping the rest of the file as it is (ruamel round trip).

    The whole file is validated as the gateway loads it before it is written; CannedError
    (nothing written) when it would not load.
    """
    import io
    import os
    import tempfile

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml_rt = YAML()
    yaml_rt.indent(mapping=2, sequence=2, offset=0)
    yaml_rt.width = 4096
    yaml_rt.preserve_quotes = True
    data = yaml_rt.load(path.read_text(encoding="utf-8")) if path.exists() else CommentedSeq()
    if data is None:
        data = CommentedSeq()
    item = next((i for i in data if isinstance(i, dict) and i.get("shortcode") == shortcode), None)
    if item is None:
        item = CommentedMap([("shortcode", shortcode)])
        data.append(item)
    item["title"] = title.strip()
    text_map = item.get("text") if isinstance(item.get("text"), CommentedMap) else CommentedMap()
    for language in LANGUAGES:
        text_map[language] = " ".join((texts.get(language) or "").split()) if "\n" not in (
            texts.get(language) or ""
        ) else (texts.get(language) or "").strip()
    item["text"] = text_map
    buffer = io.StringIO()
    yaml_rt.dump(data, buffer)
    answers = parse(yaml.safe_load(buffer.getvalue()), str(path))  # raises CannedError, nothing written
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
    os.replace(tmp_name, path)
    return answers
