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
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэЫЭ]")
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
_EMAIL = re.compile(r"\S+@\S+")
# Short messages: letters only one of our languages uses, and its most common short
# words. They decide when the statistical detector is unsure, so "thanks, and the
# refund?" after a Slovak message is English again instead of sticking to Slovak.
_LETTERS_OF = {"sk": set("ľĺŕôäťďň"), "hu": set("őű")}
_COMMON_WORDS = {
    "en": set(
        [
            "the",
            "my",
            "is",
            "are",
            "where",
            "what",
            "when",
            "how",
            "why",
            "you",
            "your",
            "thanks",
            "thank",
            "hello",
            "hi",
            "please",
            "order",
            "return",
            "and",
            "it",
            "can",
            "i",
            "yes",
            "bye",
            "about",
            "refund",
            "gift",
            "card",
            "help",
            "me",
            "want",
            "need",
            "do",
            "does",
        ]
    ),
    "sk": set(
        [
            "kde",
            "je",
            "moja",
            "moje",
            "môj",
            "ďakujem",
            "dakujem",
            "ahoj",
            "prosím",
            "prosim",
            "chcem",
            "áno",
            "ano",
            "nie",
            "objednávka",
            "objednavka",
            "vďaka",
            "vdaka",
            "dobrý",
            "dobry",
            "deň",
            "kedy",
            "ako",
            "mi",
            "sa",
            "to",
        ]
    ),
    "hu": set(
        [
            "hol",
            "van",
            "az",
            "köszönöm",
            "koszonom",
            "szia",
            "kérem",
            "kerem",
            "igen",
            "nem",
            "rendelés",
            "rendeles",
            "jó",
            "napot",
            "mikor",
            "hogyan",
            "szeretném",
            "szeretnem",
            "és",
            "meg",
        ]
    ),
}


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
    # Preloaded: lazily, the first message in Latin script waited 4.4 s and the first in
    # Cyrillic 0.6 s for their models; loading all of them takes the same memory.
    return LanguageDetectorBuilder.from_languages(*_CANDIDATES).with_preloaded_language_models().build()


def load_language_models() -> None:
    """Load the detector's models now (~3 s), as a server starts, not on a customer's message."""
    _detector()


def _by_vocabulary(text: str) -> str | None:
    """en/sk/hu from tell-tale letters or common words, when exactly one language fits."""
    lowered = text.casefold()
    for code, letters in _LETTERS_OF.items():
        if letters & set(lowered):
            return code
    words = _WORDS.findall(lowered)
    scores = {code: sum(w in vocabulary for w in words) for code, vocabulary in _COMMON_WORDS.items()}
    best = max(scores.values())
    winners = [code for code, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


def detect_language(text: str, min_confidence: float = 0.4) -> Detection | None:
    """The message's language, or None when it is too short or too mixed to tell.

    None keeps the conversation's language: "ok", "2" or an email address say nothing.
    """
    text = _EMAIL.sub(" ", text)
    letters = len(_LETTERS.findall(text))
    if letters < 2:
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    confidence = float(best.value)
    if _CYRILLIC.search(text) and (
        code not in {"ru", "uk", "bg"}
        # Short Russian often scores as Ukrainian or Bulgarian; only their own letters say so.
        or (code == "uk" and not _UKRAINIAN.search(text))
        or (code == "bg" and _RUSSIAN_ONLY.search(text))
    ):
        code, confidence = "ru", max(confidence, min_confidence)
    if confidence < min_confidence and letters < 25:
        guess = _by_vocabulary(text)
        return Detection(guess, min_confidence) if guess else None
    return Detection(code, confidence)
