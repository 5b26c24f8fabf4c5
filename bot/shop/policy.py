"""Return rules of the shop, as pure functions of its profile's policies (same for every store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.profile.model import ShopProfile, load_profile


@dataclass(frozen=True)
class ReturnPolicy:
    """policies.return_window_days and return_excluded_categories of shop.yml."""

    window_days: int
    excluded_categories: frozenset[str]

    @classmethod
    def of(cls, profile: ShopProfile) -> ReturnPolicy:
        policies = profile.policies
        return cls(policies.return_window_days, frozenset(policies.return_excluded_categories))


def default_policy() -> ReturnPolicy:
    """The demo shop's policy, for tools and tests that build a store on its own."""
    from bot.settings import DEMO_PROFILE  # settings sit above the domain: looked up only here

    return ReturnPolicy.of(load_profile(DEMO_PROFILE))


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


def order_eligibility(status: str, delivered_at: date | None, today: date, policy: ReturnPolicy) -> Eligibility:
    if status != "delivered" or delivered_at is None:
        return Eligibility.NOT_DELIVERED
    if today - delivered_at > timedelta(days=policy.window_days):
        return Eligibility.WINDOW_CLOSED
    return Eligibility.ELIGIBLE


def returnable(items: list[ItemView], policy: ReturnPolicy) -> tuple[list[ItemView], list[ItemView]]:
    """Split items into (returnable, excluded)."""
    ok = [i for i in items if i.category not in policy.excluded_categories]
    excluded = [i for i in items if i.category in policy.excluded_categories]
    return ok, excluded
