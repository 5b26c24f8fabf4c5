"""A greeting before a question and thanks after it do not change which FAQ entry answers."""

from __future__ import annotations

import pytest

from bot import composition
from bot.openers import request_of


@pytest.mark.parametrize(
    ("text", "core"),
    [
        ("hi there, do you ship to Austria?", "do you ship to Austria?"),
        ("Good morning! my card keeps failing, thanks", "my card keeps failing"),
        ("здравствуйте, вы доставляете в Казахстан? спасибо", "вы доставляете в Казахстан?"),
        ("dobrý deň, platba kartou mi neprešla", "platba kartou mi neprešla"),
        ("dobry den, kde je moj balik prosim", "kde je moj balik"),
        ("jó napot kívánok, elfelejtettem a jelszavamat", "elfelejtettem a jelszavamat"),
        ("szia, hol a csomagom kérlek", "hol a csomagom"),
    ],
)
def test_the_greeting_and_thanks_are_taken_off_the_request(text: str, core: str) -> None:
    assert request_of(text) == core


@pytest.mark.parametrize("text", ["hello", "good morning!", "ahoj", "szia!", "hiking boots", "history of my orders", "thanks"])
def test_a_greeting_alone_or_a_word_that_starts_like_one_is_left_whole(text: str) -> None:
    assert request_of(text) == text.strip()


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("dobrý deň, platba kartou mi neprešla", "payment_failed"),
        ("hey there, my card is refused whenever I pay", "payment_failed"),
        ("здравствуйте, сколько дней идёт доставка? спасибо", "delivery_time"),
    ],
)
def test_the_faq_search_reads_the_request_without_the_greeting(app_env, text: str, entry: str) -> None:
    router = composition.router()
    parse = {"text": text, "intent": {"name": "faq", "confidence": 0.97},
             "intent_ranking": [{"name": "faq", "confidence": 0.97}], "entities": []}
    decision = router.decide(text, parse)
    assert decision.faq_hits[0].entry_id == entry
