"""The one renderer of ``{{ shop.<field> }}`` in any text: responses, FAQ, canned answers, mails, pages.

A text says ``Refunds arrive within {{ shop.refund_days }} days`` and the profile fills it in the
reply's language (money and hours are written the way that language writes them).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.profile.model import LANGUAGES, ShopProfile

log = logging.getLogger(__name__)
PLACEHOLDER = re.compile(r"\{\{\s*shop\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def placeholders_in(text: str) -> list[str]:
    """The field names a text uses, in order."""
    return PLACEHOLDER.findall(text or "")


def unknown_fields(text: str, profile: ShopProfile) -> list[str]:
    known = profile.placeholders(profile.default_language)
    return [name for name in placeholders_in(text) if name not in known]


def render(text: str, profile: ShopProfile, lang: str | None = None) -> str:
    """``text`` with every known shop placeholder filled for ``lang``; unknown ones stay visible."""
    if not text or "{{" not in text:
        return text
    values = profile.placeholders(lang if lang in LANGUAGES else profile.default_language)

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            log.warning("unknown shop placeholder %s: see docs/setup-your-shop.md for the fields", match.group(0))
            return match.group(0)
        return value

    return PLACEHOLDER.sub(fill, text)


def render_tree(value: Any, profile: ShopProfile, lang: str | None = None) -> Any:
    """Every string inside ``value`` (dicts, lists: buttons, custom payloads) rendered."""
    if isinstance(value, str):
        return render(value, profile, lang)
    if isinstance(value, list):
        return [render_tree(item, profile, lang) for item in value]
    if isinstance(value, dict):
        return {key: render_tree(item, profile, lang) for key, item in value.items()}
    return value
