"""Localised labels from locales/labels.yml (responses live in domain.yml)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import yaml

from bot.settings import ROOT


@functools.lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "locales" / "labels.yml").read_text(encoding="utf-8"))


def status_label(status: str, lang: str) -> str:
    names = labels()["order_status"].get(status, {})
    return names.get(lang) or names.get("en") or status


def clarify_label(route: str, lang: str) -> str:
    names = labels()["clarify_routes"].get(route, {})
    return names.get(lang) or names.get("en") or route


def all_items_words(lang: str) -> list[str]:
    words = labels()["all_items"]
    return words.get(lang, []) + words["en"]


def format_date(value: date | None, lang: str) -> str:
    """A date as the shop writes it in ``lang`` (formats in shop.yml)."""
    from bot import composition

    return composition.shop_profile().date(value, lang)
