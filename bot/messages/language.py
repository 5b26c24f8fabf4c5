"""The language of a stored customer message, for the conversation's language and the reports.

The reply language of each message stays Rasa's decision (bot.nlu.LanguageDetector, lingua
with its full models). The gateway tags stored messages with lingua's low-accuracy models
(~40 MB instead of ~500 MB in every gateway process) and the same rules for Cyrillic and
short texts; full sentences, which decide a conversation's majority, come out the same.
"""

from __future__ import annotations

import functools

from lingua import LanguageDetector, LanguageDetectorBuilder

from bot.kb.schema import LANGUAGES
from bot.nlu import language as nlu


@functools.lru_cache(maxsize=1)
def _light_detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*nlu._CANDIDATES).with_low_accuracy_mode().build()


def _detect(text: str, min_confidence: float = 0.4) -> nlu.Detection | None:
    # bot.nlu.language.detect_language's rules, on the small models.
    text = nlu._EMAIL.sub(" ", text)
    letters = len(nlu._LETTERS.findall(text))
    if letters < 2:
        return None
    values = _light_detector().compute_language_confidence_values(text)
    if not values:
        return None
    code = values[0].language.iso_code_639_1.name.lower()
    confidence = float(values[0].value)
    if nlu._CYRILLIC.search(text) and (
        code not in {"ru", "uk", "bg"}
        or (code == "uk" and not nlu._UKRAINIAN.search(text))
        or (code == "bg" and nlu._RUSSIAN_ONLY.search(text))
    ):
        code, confidence = "ru", max(confidence, min_confidence)
    if confidence < min_confidence and letters < 25:
        guess = nlu._by_vocabulary(text)
        return nlu.Detection(guess, min_confidence) if guess else None
    return nlu.Detection(code, confidence)


def message_language(text: str) -> str | None:
    """en/ru/sk/hu for a customer message, or None when it can't tell ("ok", "2", a button payload)."""
    if not text or text.startswith("/"):
        return None
    detection = _detect(text)
    if detection is None:
        return None
    # Only our languages (and Czech, answered in Slovak) vote: a short Slovak question taken for
    # Polish would otherwise count as English, the bot's fallback, and flip a Slovak conversation.
    if detection.code not in LANGUAGES and detection.code not in nlu.REPLY_LANGUAGE:
        return None
    return detection.reply_language
