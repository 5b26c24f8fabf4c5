"""Every order-system adapter, loaded with the same orders (tests/support/shop_data.py).

``store`` is parametrised: each test of the contract suite runs against the demo SQL
store, WooCommerce (a stand-in served over HTTP, see tests/support/woocommerce.py) and
the JSON-over-HTTP adapter talking to the reference shop (tests/support/json_shop.py).
A new adapter joins the suite by adding a case here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.db import session_scope
from bot.migrations import init_db
from bot.shop.adapters.json_http import JsonHttpStore
from bot.shop.adapters.woocommerce import WooCommerceStore
from bot.shop.models import Customer, Order, OrderItem, Product
from bot.shop.store import OrderStatus, ShopStore, SqlShopStore
from tests.support import json_shop, woocommerce
from tests.support.http_server import serving
from tests.support.shop_data import ORDERS

ADAPTERS = ("demo", "woocommerce", "json_http")


@dataclass
class Backend:
    name: str
    store: ShopStore


def load_sql(url: str, today: date) -> None:
    init_db(url)
    with session_scope(url) as session:
        customers: dict[str, Customer] = {}
        products: set[str] = set()
        for order in ORDERS:
            customer = customers.get(order.email)
            if customer is None:
                customer = customers[order.email] = Customer(
                    email=order.email, name=order.name, language=order.lang
                )
                session.add(customer)
            delivered = order.delivered_at(today)
            shipped = order.status in {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
            row = Order(
                number=order.number,
                customer=customer,
                status=order.status.value,
                ordered_at=order.ordered_at(today),
                shipped_at=order.ordered_at(today) + timedelta(days=1) if shipped else None,
                delivered_at=delivered,
            )
            session.add(row)
            for item in order.items:
                row.items.append(
                    OrderItem(
                        sku=item.sku,
                        name=item.name,
                        category=item.category,
                        quantity=item.quantity,
                        unit_price_cents=item.price_cents,
                    )
                )
                if item.sku not in products:
                    products.add(item.sku)
                    session.add(Product(sku=item.sku, category=item.category))


@pytest.fixture(params=ADAPTERS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    today = date.today()
    if request.param == "demo":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        load_sql(url, today)
        yield Backend("demo", SqlShopStore(url, b"contract-secret"))
    elif request.param == "woocommerce":
        with serving(woocommerce.WooCommerceStandIn().load(ORDERS, today).app()) as base:
            yield Backend(
                "woocommerce",
                WooCommerceStore(base, woocommerce.KEY, woocommerce.SECRET, backoff=0.01, page_size=1),
            )
    else:
        with serving(json_shop.JsonShop().load(ORDERS, today).app()) as base:
            yield Backend("json_http", JsonHttpStore(base, json_shop.SECRET, backoff=0.01))


@pytest.fixture()
def store(backend: Backend) -> ShopStore:
    return backend.store
