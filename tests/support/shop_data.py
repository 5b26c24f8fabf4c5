"""One set of shop orders, loaded into every order-system backend the contract suite runs.

Each backend stores them in its own format (SQL rows, WooCommerce JSON, the JSON-over-HTTP
contract); the suite then asks every adapter the same questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.shop.store import OrderStatus


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    quantity: int
    product_id: int  # WooCommerce's product id
    price_cents: int = 1999


@dataclass(frozen=True)
class ShopOrder:
    number: str
    email: str
    name: str
    lang: str
    status: OrderStatus
    ordered_days_ago: int
    delivered_days_ago: int | None
    items: tuple[Item, ...]

    def ordered_at(self, today: date) -> date:
        return today - timedelta(days=self.ordered_days_ago)

    def delivered_at(self, today: date) -> date | None:
        return None if self.delivered_days_ago is None else today - timedelta(days=self.delivered_days_ago)


KETTLE = Item("KT-100", "Kettle", "kitchen", 1, 11)
SUITE = Item("SW-200", "Office suite", "software", 1, 12)
HEADPHONES = Item("HP-300", "Headphones", "audio", 1, 13)
MOUSE = Item("MS-400", "Mouse", "accessories", 2, 14)
GIFT_CARD = Item("GC-500", "Gift card", "gift_card", 1, 15)

RECENT_DELIVERED = ShopOrder(
    "300101", "anna.kovacova@example.sk", "Anna", "sk", OrderStatus.DELIVERED, 10, 5, (KETTLE, SUITE)
)
IN_TRANSIT = ShopOrder(
    "300102", "peter.novak@example.com", "Peter", "en", OrderStatus.SHIPPED, 3, None, (HEADPHONES,)
)
PROCESSING = ShopOrder(
    "300103", "eva.szabo@example.hu", "Eva", "hu", OrderStatus.PROCESSING, 1, None, (MOUSE,)
)
CANCELLED = ShopOrder(
    "300104", "eva.szabo@example.hu", "Eva", "hu", OrderStatus.CANCELLED, 20, None, (MOUSE,)
)
OLD_DELIVERED = ShopOrder(
    "300105", "ivan.petrov@example.ru", "Ivan", "ru", OrderStatus.DELIVERED, 70, 60, (KETTLE,)
)
EXCLUDED_ONLY = ShopOrder(
    "300106", "gift.buyer@example.com", "Gift", "en", OrderStatus.DELIVERED, 6, 3, (GIFT_CARD,)
)
ORDERS = (RECENT_DELIVERED, IN_TRANSIT, PROCESSING, CANCELLED, OLD_DELIVERED, EXCLUDED_ONLY)
