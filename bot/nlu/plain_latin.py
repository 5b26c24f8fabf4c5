"""Which of our languages a message in plain Latin letters is in (no diacritics, or Russian
typed in Latin letters): "kde je moja objednavka", "hol van a csomagom", "gde moy zakaz".

lingua's models are trained on text as it is properly written, so such messages score
low or as Polish, Croatian or English. This is a naive Bayes over character 1-4-grams,
fitted in a second at start-up on the NLU training examples of data/nlu/<lang> and the
general-domain sentences of data/nlu/public (SIB-200), each written the way such a
customer writes it: Slovak and Hungarian without diacritics, Russian transliterated.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "ru", "sk", "hu")
ORDERS = (1, 2, 3, 4)
# Russian typed on a Latin keyboard; several spellings exist, this is the most common one.
_RU_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_NOT_LETTERS = re.compile(r"[^a-z]+")


def plain(text: str) -> str:
    """Lower-case ASCII letters and single spaces: what the model reads."""
    latin = "".join(_RU_LATIN.get(c, c) for c in text.casefold())
    stripped = "".join(c for c in unicodedata.normalize("NFKD", latin) if not unicodedata.combining(c))
    return _NOT_LETTERS.sub(" ", stripped).strip()


def is_plain_latin(text: str) -> bool:
    """Letters only from a-z: nothing but statistics can tell the language."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all("a" <= c.casefold() <= "z" for c in letters)


def _grams(text: str) -> Iterable[str]:
    padded = f" {plain(text)} "
    for n in ORDERS:
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if gram.strip():
                yield gram


@dataclass(frozen=True)
class PlainLatinModel:
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    unseen: dict[str, float]

    @classmethod
    def fit(cls, examples: dict[str, list[str]], alpha: float = 0.5) -> PlainLatinModel:
        counts = {lang: Counter(g for text in texts for g in _grams(text)) for lang, texts in examples.items()}
        vocabulary = set().union(*counts.values())
        log_likelihood, unseen = {}, {}
        for lang, grams in counts.items():
            total = sum(grams.values()) + alpha * len(vocabulary)
            log_likelihood[lang] = {g: math.log((c + alpha) / total) for g, c in grams.items()}
            unseen[lang] = math.log(alpha / total)
        # Equal priors: how often each language is written here says nothing about this message.
        prior = {lang: -math.log(len(examples)) for lang in examples}
        return cls(prior, log_likelihood, unseen)

    def probabilities(self, text: str) -> dict[str, float]:
        grams = list(_grams(text))
        if not grams:
            return {}
        scores = {
            lang: self.log_prior[lang] + sum(self.log_likelihood[lang].get(g, self.unseen[lang]) for g in grams)
            for lang in self.log_prior
        }
        # n-grams of one text overlap, so their evidence is not independent: temper it.
        temper = 1.0 / max(ORDERS)
        top = max(scores.values())
        weights = {lang: math.exp((s - top) * temper) for lang, s in scores.items()}
        total = sum(weights.values())
        return {lang: w / total for lang, w in sorted(weights.items(), key=lambda kv: -kv[1])}


def _examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines = []
    for block in data.get("nlu") or []:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                lines.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:]))  # entity markup
    return lines


def training_examples(root: Path = ROOT) -> dict[str, list[str]]:
    nlu = root / "data" / "nlu"
    found: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        files = sorted((nlu / lang).glob("*.yml")) + sorted((nlu / "public").glob(f"*_{lang}.yml"))
        found[lang] = [text for path in files for text in _examples(path)]
    return found


@functools.lru_cache(maxsize=1)
def model() -> PlainLatinModel:
    return PlainLatinModel.fit(training_examples())
