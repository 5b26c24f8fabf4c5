"""Near-duplicate questions across entries: they make retrieval pick at random."""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer

from bot.kb.schema import LANGUAGES, FaqEntry, Issue

NEAR_DUPLICATE_SIMILARITY = 0.9
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NON_WORD.sub(" ", text.casefold()).strip()


def find_near_duplicates(
    entries: list[FaqEntry], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[Issue]:
    """Report question pairs of two different entries whose char n-gram cosine >= threshold."""
    issues: list[Issue] = []
    for lang in LANGUAGES:
        rows = [
            (entry, question, line)
            for entry in entries
            if lang in entry.texts
            for question, line in zip(entry.texts[lang].questions, _lines(entry, lang), strict=False)
        ]
        if len(rows) < 2:
            continue
        texts = [normalise(q) for _, q, _ in rows]
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4)).fit_transform(texts)
        similarity = (matrix @ matrix.T).tocoo()
        for i, j, score in zip(similarity.row, similarity.col, similarity.data, strict=True):
            if i >= j or score < threshold:
                continue
            (a, qa, la), (b, qb, lb) = rows[i], rows[j]
            if a.id == b.id:
                continue
            exact = texts[i] == texts[j]
            issues.append(
                Issue(
                    b.source,
                    lb,
                    f"question '{qb}' ({lang}) of '{b.id}' "
                    f"{'repeats' if exact else 'nearly repeats'} '{qa}' of '{a.id}' "
                    f"at {a.source}:{la}",
                    "error" if exact else "warning",
                )
            )
    return issues


def _lines(entry: FaqEntry, lang: str) -> tuple[int, ...]:
    text = entry.texts[lang]
    return text.question_lines or tuple(entry.line for _ in text.questions)
