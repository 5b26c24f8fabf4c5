"""Shop facts typed by hand into answers, and placeholders the profile does not know.

An answer that says "within 14 days" next to a refund word states a policy of shop.yml by hand:
when the policy changes, the answer stays wrong. The check warns and names the placeholder to
write instead (``{{ shop.refund_days }}``). Contact details (email, phone) are matched exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.kb.schema import FaqEntry, Issue
from bot.profile.model import ShopProfile
from bot.profile.render import PLACEHOLDER, unknown_fields

# A policy number is only "the policy" in a sentence about it: "repair within 30 days" is not
# the return window. Words per policy, in the four languages (stems, lower case).
_DAYS = r"(?:days?|дн(?:ей|я|и)|dn(?:í|i|ami)|dňami|dni|nap(?:on|ja|os|ig)?)"
_MONTHS = r"(?:months?|месяц\w*|mesiac\w*|mesačn\w*|hónap\w*|havi)"
_TOPICS: dict[str, tuple[str, str]] = {
    # placeholder: (topic words, unit)
    "return_window_days": (r"return|возвр|верн|vrát|visszaküld", _DAYS),
    "refund_days": (r"refund|возвра|деньги|peniaze|peňazí|visszatérít|térítjük", _DAYS),
    "warranty_months": (r"warrant|гарант|záruk|garanc", _MONTHS),
}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


@dataclass(frozen=True)
class _Hit:
    text: str  # a piece of the answer that finds its line in the file
    message: str


def _about(topic: str, questions: tuple[str, ...]) -> bool:
    """Most of the entry's questions ask about the topic: then "the 14 days start when ..." in its
    answer is that policy even without the topic word in the sentence (one question mentioning
    a refund, as in a price-protection entry, is not enough)."""
    asking = sum(bool(re.search(topic, q.lower())) for q in questions)
    return bool(questions) and 2 * asking >= len(questions)


def _hits_in(answer: str, profile: ShopProfile, questions: tuple[str, ...] = ()) -> list[_Hit]:
    hits: list[_Hit] = []
    plain = PLACEHOLDER.sub(" ", answer)
    numbers = profile.policy_numbers()
    for field, value in numbers.items():
        if field in _TOPICS or not value:
            continue
        if value in plain:  # contact details: exact
            hits.append(_Hit(value, f"states the shop's {field} by hand ('{value}'): write {{{{ shop.{field} }}}}"))
    asked = {field for field, (topic, _) in _TOPICS.items() if _about(topic, questions)}
    for sentence in _SENTENCE.findall(plain):
        lower = sentence.lower()
        for field, (topic, unit) in _TOPICS.items():
            value = numbers.get(field)
            if not value or not (field in asked or re.search(topic, lower)):
                continue
            match = re.search(rf"(?<![\d.,]){re.escape(value)}\**[\s\-\u00a0]*\**{unit}", lower)
            if match:
                hits.append(
                    _Hit(
                        sentence.strip()[:40],
                        f"states the policy {field} by hand ('{match.group(0).strip()}'): "
                        f"write {{{{ shop.{field} }}}} so it follows shop.yml",
                    )
                )
    return hits


def _line_of(source: str, start: int, needle: str) -> int:
    try:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return start
    for number in range(max(start, 1), len(lines) + 1):
        if needle in lines[number - 1] or needle.lower() in lines[number - 1].lower():
            return number
    return start


def check_facts(entries: list[FaqEntry], profile: ShopProfile) -> list[Issue]:
    """Warnings for hand-typed policy facts, errors for ``{{ shop.x }}`` the profile lacks."""
    issues: list[Issue] = []
    for entry in entries:
        for lang, text in entry.texts.items():
            start = entry.line
            for name in unknown_fields(text.answer, profile):
                line = _line_of(entry.source, start, f"shop.{name}")
                issues.append(
                    Issue(entry.source, line, f"entry '{entry.id}' ({lang}): unknown placeholder shop.{name}")
                )
            for hit in _hits_in(text.answer, profile, text.questions):
                line = _line_of(entry.source, start, hit.text)
                issues.append(Issue(entry.source, line, f"entry '{entry.id}' ({lang}): {hit.message}", "warning"))
    return issues
