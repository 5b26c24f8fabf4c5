"""Language identification for customer messages (lingua, fully offline)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from bot.kb.schema import FALLBACK_LANGUAGE, LANGUAGES
from bot.nlu import plain_latin

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
# Short messages (up to SHORT_WORDS words): the statistical detector is unreliable there,
# above all without diacritics ("kde je moja objednavka", "hol van a csomagom") or in
# transliterated Russian ("gde moy zakaz"). Letters only one of our languages uses, and
# each language's common short words (also written without diacritics) decide first;
# a short message with no English word is never taken for English: with no evidence it
# keeps the conversation's language (None).
SHORT_WORDS = 4
_LETTERS_OF = {"sk": set("ľĺŕôäťďň"), "hu": set("őű")}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COMMON_WORDS = {
    "en": _words(
        "the a an my is are was where what when how why who which you your i me we it its this that these "
        "and or but not no yes ok okay thanks thank hello hi hey please order orders return returns refund "
        "can could would will do does did have has had want need help about of to for from in on at with "
        "by up out if so all any get got still yet gift card cards delivery shipping ship shipped package "
        "parcel payment pay paid account password reset cancel cancelled money back item items size there "
        "here be been am just too very much many more one two some sorry bye goodbye great good fine wrong "
        "problem issue late arrived arrive broken damaged doesn't don't didn't isn't can't won't where's "
        "what's it's i'm track tracking status invoice receipt discount code voucher price cost free"
    ),
    "sk": _words(
        "kde je moja moje moj môj ďakujem dakujem dakujeme ahoj prosím prosim chcem chcel chcela áno ano nie "
        "objednávka objednavka objednávku objednavku objednávky objednavky vďaka vdaka dobrý dobry deň den "
        "kedy ako mi sa to som si ma mám mam nemám nemam môžem mozem ešte este uz už balík balik balíček "
        "balicek zásielka zasielka zásielku zasielku platba platbu tovar vrátiť vratit vrátenie vratenie "
        "peniaze zrušiť zrusit heslo účet ucet prečo preco nefunguje prišlo prislo neprišlo neprislo "
        "reklamácia reklamacia doprava dodanie koľko kolko stojí stoji veľké velke malé male sedí sedi "
        "nepáči nepaci páči paci zlé zle pokazené pokazene dobre ďalej dalej čo co aký aky akú aku "
        "problém problem účtom uctom účtu uctu so na do za pre nefunguje nejde"
    ),
    "hu": _words(
        "hol van az a köszönöm koszonom köszi koszi szia kérem kerem igen nem rendelés rendeles rendelésem "
        "rendelesem rendelést rendelest jó jo napot mikor hogyan szeretném szeretnem és es meg csomag "
        "csomagom csomagot fizetés fizetes pénz penz pénzem penzem vissza visszaküldés visszakuldes "
        "jelszó jelszo fiók fiok fiókom fiokom fiokommal fiókommal baj probléma problema miért miert "
        "mennyi kerül kerul szállítás szallitas számla szamla lemondás lemondas törlés torles nagy kicsi "
        "rossz nekem nincs még meg már mar tetszik sajnos kösz kosz helló hello jól jol ez egy mit ki"
    ),
    # Transliterated Russian (Latin letters): what customers type on a keyboard without Cyrillic.
    "ru": _words(
        "privet spasibo spasiba pozhaluysta pozhalujsta pojaluysta zdravstvuyte zdravstvujte gde moy moi "
        "moj moya zakaz zakaza zakazom hochu khochu vernut vozvrat dengi deneg oplata oplatil dostavka "
        "oplatoy oplatoj dostavku kogda kak pochemu pochemy skolko stoit net da ne ya mne menya u menya tovar posylka "
        "posylku akkaunt parol otmenit otmena problema prishel prishlo slomalsya spasibki poka ok horosho "
        "khorosho chto eto nuzhno mozhno"
    ),
}
# "a", "ok", "hello", "problema" and the like are shared: evidence counts only when it
# points to one language.
_SHARED = frozenset(w for w in _COMMON_WORDS["en"] if any(w in v for c, v in _COMMON_WORDS.items() if c != "en"))


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
    plain_latin.model()


# Plain-Latin messages: the n-gram model decides when it is this sure (bench/language.py).
PLAIN_LATIN_MIN = 0.75
# ... unless lingua puts this much on languages plain sk/hu/ru are rarely mistaken for
# (Spanish, German...): on Tatoeba that loses 0.2 % of ours and keeps 12 of 15 foreign
# requests of our own foreign (they are answered in English, the fallback).
_FOREIGN = {"de", "fr", "es", "it", "nl", "pt", "ro"}
_FOREIGN_MASS = 0.8


def _plain_latin(text: str, values: list) -> Detection | None:
    """Slovak or Hungarian without diacritics, Russian in Latin letters (bot.nlu.plain_latin)."""
    if len(_WORDS.findall(text)) < 2 or not plain_latin.is_plain_latin(text):
        return None  # one word ("iphone", "ok") is evidence for nothing; the vocabulary decides
    if sum(v.value for v in values if v.language.iso_code_639_1.name.lower() in _FOREIGN) >= _FOREIGN_MASS:
        return None
    probabilities = plain_latin.model().probabilities(text)
    if not probabilities:
        return None
    best, p = next(iter(probabilities.items()))
    return Detection(best, p) if p >= PLAIN_LATIN_MIN else None


def _by_vocabulary(text: str) -> str | None:
    """en/sk/hu/ru (transliterated) from tell-tale letters or common words, when one language fits."""
    lowered = text.casefold()
    for code, letters in _LETTERS_OF.items():
        if letters & set(lowered):
            return code
    words = [w for w in _WORDS.findall(lowered.replace("'", "")) if w not in _SHARED] or _WORDS.findall(lowered)
    # English and Russian in Latin letters are written without diacritics: "On napíše" is not English.
    candidates = {c: v for c, v in _COMMON_WORDS.items() if plain_latin.is_plain_latin(text) or c in ("sk", "hu")}
    scores = {code: sum(w in vocabulary for w in words) for code, vocabulary in candidates.items()}
    best = max(scores.values())
    winners = [code for code, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


def _has_english_word(text: str) -> bool:
    return any(w in _COMMON_WORDS["en"] for w in _WORDS.findall(text.casefold()))


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
        or (code == "bg" and (_RUSSIAN_ONLY.search(text) or confidence < 0.9 or len(_WORDS.findall(text)) <= SHORT_WORDS))
    ):
        code, confidence = "ru", max(confidence, min_confidence)
    if _CYRILLIC.search(text):
        return Detection(code, confidence)
    if not any(letters & set(text.casefold()) for letters in _LETTERS_OF.values()):
        latin = _plain_latin(text, values)
        if latin is not None:
            return latin
    if len(_WORDS.findall(text)) <= SHORT_WORDS:
        guess = _by_vocabulary(text)
        if guess:
            return Detection(guess, max(confidence, min_confidence) if guess == code else min_confidence)
        if code == "en" and not _has_english_word(text):
            return None  # no English word in it: keep the conversation's language
    if confidence < min_confidence and letters < 25:
        guess = _by_vocabulary(text)
        return Detection(guess, min_confidence) if guess else None
    return Detection(code, confidence)
