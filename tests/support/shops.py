"""A second shop for the tests: Kávička, a coffee shop in Slovak and Hungarian only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.shop.skeleton import NewShop, write_shop

COFFEE = NewShop(
    name="Kávička",
    languages=["sk", "hu"],
    contact_email="ahoj@kavicka.example",
    phone="+421 900 123 456",
    website="https://kavicka.example",
    timezone="Europe/Budapest",
    return_window_days=14,
    refund_days=7,
    warranty_months=12,
    shipping_standard=2.90,
    free_shipping_over=40,
    primary_colour="#6f4e37",
    chat_hours={
        **{day: ["07:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": ["08:00", "12:00"],
    },
)
COFFEE_SHOP: dict[str, Any] = COFFEE.profile()
COFFEE_SHOP["policies"]["return_excluded_categories"] = ["opened_food"]
COFFEE_SHOP["colours"] = {"primary": "#6f4e37", "on_primary": "#fff8e7", "accent": "#c8a165"}
COFFEE_SHOP["mail_sender"] = "Kávička <objednavky@kavicka.example>"
COFFEE_SHOP["reset_url"] = "https://kavicka.example/heslo?token="


def write_coffee_shop(directory: Path) -> Path:
    """The coffee shop's folder (profile + FAQ skeleton), as `python -m bot init` makes one."""
    write_shop(directory, COFFEE)
    (directory / "shop.yml").write_text(
        "# Kávička: the second shop of the tests\n" + yaml.safe_dump(COFFEE_SHOP, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return directory
