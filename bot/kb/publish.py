"""Safe publishing: a changed FAQ must not make another entry's phrasings answer wrongly.

Every phrasing is searched as if a customer typed it; it should find its own
entry. A phrasing that found its entry before a change and a different one
after it is reported with the file:line of the phrasing and of the entry that
now answers it, and the change is not published.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.kb.index import FaqIndex
from bot.kb.schema import Issue


@dataclass(frozen=True)
class Misroute:
    entry_id: str
    lang: str
    question: str
    answered_by: str
    score: float


def misroutes(index: FaqIndex) -> dict[tuple[str, str, str], Misroute]:
    """Phrasings whose best entry is not their own (computed once per index)."""
    cached = getattr(index, "_misroutes", None)
    if cached is not None:
        return cached
    found: dict[tuple[str, str, str], Misroute] = {}
    total = index.index.ntotal
    vectors = index.index.reconstruct_n(0, total) if total else []
    for row, vector in zip(index.rows, vectors, strict=False):
        hits = index.search(vector, 1)
        if hits and hits[0].entry_id != row.entry_id:
            found[(row.entry_id, row.lang, row.question)] = Misroute(
                row.entry_id, row.lang, row.question, hits[0].entry_id, hits[0].score
            )
    index._misroutes = found  # type: ignore[attr-defined]  # an immutable snapshot: safe to memoise
    return found


def _where(
    index: FaqIndex, entry_id: str, lang: str | None = None, question: str | None = None
) -> tuple[str, int]:
    entry = index.entries[entry_id]
    text = entry.texts.get(lang) if lang else None
    if text is not None and question in text.questions:
        return entry.source, text.question_lines[text.questions.index(question)]
    return entry.source, entry.line


def new_misroutes(before: FaqIndex | None, after: FaqIndex) -> list[Issue]:
    """Phrasings that answered correctly before and wrongly after (existing ones are not news)."""
    old = misroutes(before) if before is not None else {}
    issues = []
    for key, wrong in sorted(misroutes(after).items()):
        if key in old or (before is not None and key[0] not in before.entries):
            continue  # already wrong, or part of a new entry (that entry's own problem is reported below)
        file, line = _where(after, wrong.entry_id, wrong.lang, wrong.question)
        thief_file, thief_line = _where(after, wrong.answered_by)
        issues.append(
            Issue(
                file,
                line,
                f"entry '{wrong.entry_id}' ({wrong.lang}) \"{wrong.question}\" would be answered by "
                f"'{wrong.answered_by}' ({thief_file}:{thief_line}) after this change",
            )
        )
    if before is not None:  # a new entry must at least find itself
        for key, wrong in sorted(misroutes(after).items()):
            if key[0] not in before.entries:
                file, line = _where(after, wrong.entry_id, wrong.lang, wrong.question)
                issues.append(
                    Issue(
                        file,
                        line,
                        f"new entry '{wrong.entry_id}' ({wrong.lang}) \"{wrong.question}\" finds "
                        f"'{wrong.answered_by}' instead of its own entry",
                        "warning",
                    )
                )
    return issues
