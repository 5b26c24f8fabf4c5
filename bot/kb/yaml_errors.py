"""YAML syntax errors in an editor's words, at the line where the mistake is.

PyYAML reports where it *noticed* a problem, which can be far below the mistake
(an unclosed quote is noticed at the next quotation mark, maybe 200 lines on) and
in parser terms ("mapping values are not allowed here"). This looks for the
mistakes editors make (unclosed quotes, tabs, an unquoted ": " in a text, a line
indented differently) and names the line they are on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_VALUE_START = re.compile(r"^(\s*)(?:-\s+)?(?:[\w.-]+:\s+)?(?P<value>.*)$")
_KEY = re.compile(r"^(\s*)(?:-\s+)?[\w.-]+:(\s|$)")


@dataclass(frozen=True)
class YamlProblem:
    line: int  # 1-based
    message: str


def _unclosed_quote(lines: list[str], upto: int) -> int | None:
    """The first line (1-based, at most ``upto``) whose value opens a quote it does not close."""
    for number, line in enumerate(lines[:upto], 1):
        stripped = (
            line.split(" #", 1)[0].rstrip() if not line.lstrip().startswith(("'", '"')) else line.rstrip()
        )
        match = _VALUE_START.match(stripped)
        value = match.group("value") if match else ""
        if not value or value[0] not in "\"'":
            continue
        quote = value[0]
        body = value[1:]
        if quote == '"':
            body = re.sub(r"\\.", "", body)
            closed = '"' in body
        else:
            closed = "'" in body.replace("''", "")
        if not closed:
            return number
    return None


def _unclosed_bracket(lines: list[str], upto: int) -> int | None:
    """The first line whose value opens a [list] or {mapping} on one line without closing it."""
    for number, line in enumerate(lines[:upto], 1):
        match = _VALUE_START.match(line.rstrip())
        value = match.group("value") if match else ""
        if value[:1] in "[{" and value.count(value[0]) > value.count("]" if value[0] == "[" else "}"):
            return number
    return None


def _first_tab(lines: list[str]) -> int | None:
    for number, line in enumerate(lines, 1):
        indent = line[: len(line) - len(line.lstrip())]
        if "\t" in indent:
            return number
    return None


def describe(text: str, exc: yaml.YAMLError) -> YamlProblem:
    """The line and an editor's description of a YAML syntax error in ``text``."""
    lines = text.splitlines()
    mark = getattr(exc, "problem_mark", None)
    noticed = mark.line + 1 if mark is not None else len(lines)
    problem = (getattr(exc, "problem", None) or "").lower()
    tab = _first_tab(lines)
    if tab is not None and tab <= noticed:
        return YamlProblem(tab, f"line {tab} is indented with a tab; indent with spaces only")
    quote = _unclosed_quote(lines, noticed)
    if quote is not None:
        return YamlProblem(
            quote,
            f"line {quote}: a quotation mark opens a text that is not closed on that line; "
            "add the closing quotation mark (or remove the opening one)",
        )
    bracket = _unclosed_bracket(lines, noticed)
    if bracket is not None:
        return YamlProblem(
            bracket,
            f"line {bracket}: a list in [brackets] (or {{braces}}) is not closed; add the closing bracket",
        )
    if "mapping values are not allowed" in problem:
        return YamlProblem(
            noticed,
            f'line {noticed}: the text contains a colon followed by a space (": "); '
            "put the whole text in quotation marks or use a | block",
        )
    if "found character" in problem and "cannot start any token" in problem:
        return YamlProblem(
            noticed,
            f"line {noticed}: a text cannot start with this character; put the text in quotation marks",
        )
    if any(p in problem for p in ("expected <block end>", "did not find expected key", "expected '-'")):
        return YamlProblem(
            noticed,
            f"line {noticed} is indented differently from the lines around it; line it up with the "
            "other lines of the same level (spaces only)",
        )
    if "found duplicate anchor" in problem or "found undefined alias" in problem:
        return YamlProblem(noticed, f"line {noticed}: '&' and '*' have a special meaning; quote the text")
    return YamlProblem(
        noticed, f"line {noticed}: the file's structure breaks here ({problem or 'YAML syntax'})"
    )
