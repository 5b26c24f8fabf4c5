"""Return rules of the shop, as pure functions (easy to test, same for every store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

RETURN_WINDOW_DAYS = 30
# Categories that can't be returned once sold: see the return_policy FAQ entry.
EXCLUDED_CATEGORIES = frozenset({"software", "gift_card", "hygiene", "custom_pc"})


class Eligibility(StrEnum):
    ELIGIBLE = "eligible"
    NOT_DELIVERED = "not_delivered"
    WINDOW_CLOSED = "window_closed"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class ItemView:
    sku: str
    name: str
    category: str
    quantity: int
    names: dict[str, str] = field(default_factory=dict, compare=False)  # per language
    synonyms: tuple[str, ...] = ()  # words customers use for it, in any language

    def name_in(self, lang: str) -> str:
        return self.names.get(lang) or self.name


def order_eligibility(status: str, delivered_at: date | None, today: date) -> Eligibility:
    if status != "delivered" or delivered_at is None:
        return Eligibility.NOT_DELIVERED
    if today - delivered_at > timedelta(days=RETURN_WINDOW_DAYS):
        return Eligibility.WINDOW_CLOSED
    return Eligibility.ELIGIBLE


def returnable(items: list[ItemView]) -> tuple[list[ItemView], list[ItemView]]:
    """Split items into (returnable, excluded)."""
    ok = [i for i in items if i.category not in EXCLUDED_CATEGORIES]
    excluded = [i for i in items if i.category in EXCLUDED_CATEGORIES]
    return ok, excluded
