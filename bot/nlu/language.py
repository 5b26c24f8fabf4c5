"""Language identification for customer messages (lingua, fully offline)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from bot.kb.schema import FALLBACK_LANGUAGE, LANGUAGES

# Czech readers understand Slovak answers; everything else gets English.
REPLY_LANGUAGE = {"cs": "sk"}
_CANDIDATES = (
    Language.ENGLISH,
    Language.RUSSIAN,
    Language.SLOVAK,
    Language.HUNGARIAN,
    Language.CZECH,
    Language.UKRAINIAN,
    Language.POLISH,
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.ROMANIAN,
    Language.CROATIAN,
    Language.SLOVENE,
    Language.BULGARIAN,
    Language.DUTCH,
    Language.PORTUGUESE,
)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass(frozen=True)
class Detection:
    code: str  # ISO 639-1 of what the customer wrote
    confidence: float

    @property
    def reply_language(self) -> str:
        code = REPLY_LANGUAGE.get(self.code, self.code)
        return code if code in LANGUAGES else FALLBACK_LANGUAGE


@functools.lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CANDIDATES).build()


def detect_language(text: str, min_confidence: float = 0.4) -> Detection | None:
    """The message's language, or None when it is too short or too mixed to tell."""
    letters = len(_LETTERS.findall(text))
    if letters < 2:
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    confidence = float(best.value)
    if _CYRILLIC.search(text) and code not in {"ru", "uk", "bg"}:
        code, confidence = "ru", max(confidence, min_confidence)
    if confidence < min_confidence and letters < 25:
        return None
    return Detection(code, confidence)
