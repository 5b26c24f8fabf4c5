"""Which language the bot answers in, on sentences nobody here wrote (Tatoeba, ../shared/eval).

Customers often type without diacritics ("kde je moja objednavka") or write Russian in
Latin letters ("gde moy zakaz"), and in a few words. Each Tatoeba sentence is tried as
written, without diacritics (sk, hu) or transliterated (ru), and cut to its first 2-4
words. A sentence counts as right when the reply language is its own; "kept" means no
decision (the conversation's language stays), "English" means answered in English.

    make bench-language
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from bench.datasets import tatoeba
from bot.nlu.language import detect_language, load_language_models

# Deliberately another spelling than bot.nlu.plain_latin's (kh, shch, not h, sch): customers
# use several, and the model must not be measured on its own one only.
_RU_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip


def without_diacritics(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def transliterate(text: str) -> str:
    out = []
    for char in text:
        latin = _RU_LATIN.get(char.lower())
        out.append(char if latin is None else (latin.capitalize() if char.isupper() else latin))
    return "".join(out)


def variants(lang: str, sentence: str) -> dict[str, str]:
    plain = transliterate(sentence) if lang == "ru" else without_diacritics(sentence)
    words = plain.split()
    found = {"as written": sentence, "ascii" if lang != "ru" else "latin": plain}
    for n in (2, 3, 4):
        if len(words) > n:
            found[f"first {n} words, ascii"] = " ".join(words[:n])
    return found


def outcome(lang: str, text: str) -> str:
    detection = detect_language(text)
    if detection is None:
        return "kept"
    reply = detection.reply_language
    return "right" if reply == lang else ("English" if reply == "en" else "other")


def main() -> None:
    load_language_models()
    print("reply language on Tatoeba dev sentences (500 per language); kept = the conversation's language stays")
    print(f"{'lang':4} {'variant':24} {'n':>4} {'right':>6} {'kept':>6} {'English':>8} {'other':>6}")
    totals: Counter[str] = Counter()
    for lang in ("sk", "hu", "ru"):
        sentences, english = tatoeba(lang)
        if not sentences:
            print(f"{lang}: no Tatoeba file under SHARED_EVAL")
            continue
        table: dict[str, Counter[str]] = {}
        for sentence in sentences:
            for name, text in variants(lang, sentence).items():
                table.setdefault(name, Counter())[outcome(lang, text)] += 1
        for name, counts in table.items():
            n = sum(counts.values())
            print(
                f"{lang:4} {name:24} {n:4} {counts['right'] / n:6.3f} {counts['kept'] / n:6.3f}"
                f" {counts['English'] / n:8.3f} {counts['other'] / n:6.3f}"
            )
            if name != "as written":
                totals.update(counts)
        # English never answered in another language: the same sentences' English side.
        counts = Counter(outcome("en", " ".join(s.split()[:3])) for s in english)
        n = sum(counts.values())
        print(f"{'en':4} {'first 3 words (' + lang + ' pair)':24} {n:4} {counts['right'] / n:6.3f}"
              f" {counts['kept'] / n:6.3f} {'':>8} {counts['other'] / n:6.3f}")
    n = sum(totals.values())
    if n:
        print(f"\nsk/hu/ru without diacritics or in Latin letters, all lengths: right {totals['right'] / n:.3f}, "
              f"English {totals['English'] / n:.3f}, other {totals['other'] / n:.3f}, kept {totals['kept'] / n:.3f}")


if __name__ == "__main__":
    main()
