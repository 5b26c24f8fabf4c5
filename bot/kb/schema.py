"""Typed FAQ entries and validation issues."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES: tuple[str, ...] = ("en", "ru", "sk", "hu")
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Issue:
    """One validation problem, printable as ``file:line: message``."""

    file: str
    line: int
    message: str
    severity: str = "error"  # "error" rejects the file; "warning" is reported only

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class LocalizedText:
    questions: tuple[str, ...]
    answer: str
    question_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class FaqEntry:
    id: str
    texts: dict[str, LocalizedText]
    tags: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    source: str = ""
    line: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def answer_in(self, lang: str) -> tuple[str, str]:
        """The answer in ``lang``, or in English when that translation is missing.

        Returns ``(answer, language_used)`` so callers can say when they fell back.
        """
        if lang in self.texts:
            return self.texts[lang].answer, lang
        used = FALLBACK_LANGUAGE if FALLBACK_LANGUAGE in self.texts else next(iter(self.texts))
        return self.texts[used].answer, used
