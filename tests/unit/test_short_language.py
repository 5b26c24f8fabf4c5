"""Short messages keep the right language (our own sentences, 1-4 words, as customers type them)."""

from __future__ import annotations

import pytest

from bot.nlu.language import detect_language

SHORT = {
    "sk": [
        "kde je moja objednavka",
        "nechodi mi balik",
        "je mi to male",
        "kedy pride zasielka",
        "chcem vratit tovar",
        "dakujem pekne",
        "zrusit objednavku",
        "zabudol som heslo",
        "platba nepresla",
        "nepaci sa mi",
        "kolko stoji doprava",
        "preco to nejde",
        "ano prosim",
        "mam problem s uctom",
    ],
    "hu": [
        "hol van a csomagom",
        "baj van a fiokommal",
        "nem jo a meret",
        "mikor jon a rendeles",
        "vissza szeretnem kuldeni",
        "koszonom szepen",
        "elfelejtettem a jelszot",
        "mennyi a szallitas",
        "nem tetszik",
        "torolni a rendelest",
        "igen kerem",
        "miert nem mukodik",
    ],
    "ru": [
        "gde moy zakaz",
        "privet",
        "spasibo bolshoe",
        "hochu vernut dengi",
        "kogda pridet posylka",
        "otmenit zakaz",
        "zabyl parol",
        "skolko stoit dostavka",
        "problema s oplatoy",
        "где мой заказ",
        "не подошёл",
        "спасибо",
    ],
    "en": [
        "where is my order",
        "thanks, and the refund?",
        "it doesn't fit",
        "cancel it please",
        "too small",
        "how much is shipping",
    ],
}
CASES = [(text, lang) for lang, texts in SHORT.items() for text in texts]


@pytest.mark.parametrize(("text", "lang"), CASES)
def test_a_short_message_is_answered_in_its_language(text: str, lang: str) -> None:
    detection = detect_language(text)
    # None keeps the conversation's language, which is right only if that is not English;
    # a short message must be decided when it carries a word of its language.
    assert detection is not None, text
    assert detection.reply_language == lang


@pytest.mark.parametrize("text", [t for lang, texts in SHORT.items() if lang != "en" for t in texts])
def test_a_message_without_an_english_word_is_never_english(text: str) -> None:
    detection = detect_language(text)
    assert detection is None or detection.reply_language != "en"


@pytest.mark.parametrize("text", ["ok", "2", "hm", "anna.kovacova@example.sk"])
def test_a_message_that_says_nothing_keeps_the_conversation_language(text: str) -> None:
    assert detect_language(text) is None


# Longer messages typed the same way: lingua reads them as Polish, Croatian or English
# (bot.nlu.plain_latin decides; bench/language.py measures it on Tatoeba).
PLAIN_LATIN = {
    "sk": [
        "dobry den, chcel by som sa spytat kedy mi pride ta zasielka",
        "objednala som si kavovar a doteraz mi nic neprislo",
        "da sa u vas platit aj kartou pri prevzati",
    ],
    "hu": [
        "jo napot, szeretnem tudni mikor erkezik meg a csomagom",
        "a mult heten rendeltem egy porszivot de meg mindig nem jott meg",
        "lehet nalatok kartyaval fizetni atvetelkor",
    ],
    "ru": [
        "zdravstvuyte, podskazhite pozhaluysta kogda priedet moy zakaz",
        "ya zakazal pylesos na proshloy nedele i do sih por nichego net",
        "kakimi sposobami mozhno oplatit pokupku",
        "u menya ne poluchaetsya voyti v lichnyy kabinet",
    ],
}


@pytest.mark.parametrize(("text", "lang"), [(t, lang) for lang, texts in PLAIN_LATIN.items() for t in texts])
def test_plain_latin_sentences_are_answered_in_their_language(text: str, lang: str) -> None:
    detection = detect_language(text)
    assert detection is not None and detection.reply_language == lang, (text, detection)


@pytest.mark.parametrize(
    "text",
    [
        "donde esta mi pedido, lo compre hace una semana",
        "ich habe meine Bestellung noch nicht bekommen",
        "je voudrais savoir ou est mon colis",
        "vorrei sapere quando arriva il mio ordine",
    ],
)
def test_a_language_we_do_not_serve_is_answered_in_english(text: str) -> None:
    detection = detect_language(text)
    assert detection is not None and detection.reply_language == "en", (text, detection)


@pytest.mark.parametrize("text", ["Я не уверен.", "Он сломан.", "Что мне делать?"])
def test_short_cyrillic_is_russian_not_bulgarian(text: str) -> None:
    detection = detect_language(text)
    assert detection is not None and detection.reply_language == "ru"
