"""Which items of an order the customer means: names in four languages, synonyms,
category words, "all", "the second one" and "it"."""

from __future__ import annotations

import re
import unicodedata

from actions.locale import all_items_words, labels
from bot.shop.policy import ItemView

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without diacritics: "Slúchadlá" and "sluchadla" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("й", "и")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def same_word(said: str, known: str) -> bool:
    """Equal up to an inflected ending (kanvicu ~ kanvica, vízforralót ~ vízforraló)."""
    if min(len(said), len(known)) < 4:
        return said == known
    common = 0
    for a, b in zip(said, known, strict=False):
        if a != b:
            break
        common += 1
    return common >= max(4, min(len(said), len(known)) - 2)


def _vocabulary(item: ItemView) -> list[list[str]]:
    """Phrases that name the item, each as a word list; generic words (numbers, units) dropped."""
    phrases = [item.name, *item.names.values(), *item.synonyms]
    result = []
    for phrase in phrases:
        kept = [w for w in words(phrase) if len(w) >= 2 and not w.isdigit()]
        if kept:
            result.append(kept)
    return result


def names_item(said: list[str], item: ItemView) -> bool:
    for phrase in _vocabulary(item):
        if len(phrase) > 1 and all(any(same_word(s, w) for s in said) for w in phrase):
            return True
        # one distinctive word of the phrase is enough ("kettle", "kanvicu", "чайник")
        if any(same_word(s, w) for w in phrase for s in said if len(w) >= 4 or len(phrase) == 1):
            return True
    return False


def _has_phrase(text: str, phrases: list[str]) -> bool:
    folded = f" {' '.join(words(text))} "
    return any(f" {' '.join(words(p))} " in folded for p in phrases if words(p))


def ordinal(text: str, lang: str) -> int | None:
    table = labels()["ordinals"]
    for forms in (table.get(lang, []), table["en"]):
        for position, variants in enumerate(forms):
            if _has_phrase(text, variants):
                return position
    return None


def match_items(text: str, items: list[ItemView], lang: str, last: list[str] | None = None) -> list[str]:
    """SKUs the customer named among ``items`` (in the order they were offered)."""
    said = words(text)
    if _has_phrase(text, all_items_words(lang)):
        return [i.sku for i in items]
    chosen = [i.sku for i in items if fold(i.sku) in fold(text) or names_item(said, i)]
    if chosen:
        return chosen
    position = ordinal(text, lang)
    if position is not None and position < len(items):
        return [items[position].sku]
    if refers_to_it(text, lang):
        if last:
            return [sku for sku in last if any(i.sku == sku for i in items)]
        if len(items) == 1:
            return [items[0].sku]
    return []


def refers_to_it(text: str, lang: str) -> bool:
    """ "it", "that one", "его", "to", "azt": the customer points at an item without naming it."""
    this_one = labels()["this_one"]
    return _has_phrase(text, this_one.get(lang, []) + this_one["en"])


def has_reason(text: str, lang: str) -> bool:
    """A word that says why the item goes back ("too small", "не подошёл", "kicsi").

    Every language's words count: a two-word reply is easily taken for another language.
    """
    folded = f" {' '.join(words(text))}"
    table = labels()["reason_words"]
    stems = [stem for forms in table.values() for stem in forms]
    return any(f" {' '.join(words(stem))}" in folded for stem in stems if words(stem))
