"""WooCommerce and JSON-over-HTTP adapters: what only a remote order system does.

WooCommerce is a stand-in answering in its documented format over real HTTP
(tests/support/woocommerce.py); the JSON shop is the reference implementation of our
contract (tests/support/json_shop.py). The shared behaviour is in tests/contract/.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask, jsonify

from bot.shop.adapters.json_http import JsonHttpStore
from bot.shop.adapters.signing import sign, verify
from bot.shop.adapters.woocommerce import WooCommerceStore
from bot.shop.store import CancelStatus, ResetOutcome, StoreUnavailable
from tests.support import json_shop, woocommerce
from tests.support.http_server import serving
from tests.support.shop_data import ORDERS, PROCESSING, RECENT_DELIVERED


@pytest.fixture()
def woo() -> Iterator[tuple[woocommerce.WooCommerceStandIn, str]]:
    stand_in = woocommerce.WooCommerceStandIn().load(ORDERS, date.today())
    with serving(stand_in.app()) as base:
        yield stand_in, base


def woo_store(base: str, **kw: object) -> WooCommerceStore:
    return WooCommerceStore(base, woocommerce.KEY, woocommerce.SECRET, **{"backoff": 0.01, **kw})


def test_woocommerce_rate_limit_is_waited_out_as_retry_after_says(woo) -> None:
    stand_in, base = woo
    stand_in.faults.append(woocommerce.Fault(429, retry_after="1"))
    started = time.monotonic()
    order = woo_store(base).find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert order is not None and order.number == RECENT_DELIVERED.number
    assert time.monotonic() - started >= 1.0
    assert stand_in.seen[:2] == [("GET", "/wp-json/wc/v3/orders/300101")] * 2


def test_woocommerce_server_errors_are_retried_then_reported(woo, caplog: pytest.LogCaptureFixture) -> None:
    stand_in, base = woo
    stand_in.faults.extend([woocommerce.Fault(503), woocommerce.Fault(502)])
    assert woo_store(base).find_verified_order(PROCESSING.number, PROCESSING.email) is not None
    stand_in.faults.extend(woocommerce.Fault(500) for _ in range(10))
    before = len(stand_in.seen)
    with pytest.raises(StoreUnavailable):
        woo_store(base, retries=2).find_verified_order(PROCESSING.number, PROCESSING.email)
    assert len(stand_in.seen) - before == 3  # the first try and two retries
    assert PROCESSING.email not in caplog.text


def test_woocommerce_a_huge_retry_after_is_not_waited_for(woo) -> None:
    stand_in, base = woo
    stand_in.faults.extend(woocommerce.Fault(429, retry_after="3600") for _ in range(5))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        WooCommerceStore(
            base, woocommerce.KEY, woocommerce.SECRET, retries=1, backoff=0.01
        ).find_verified_order(PROCESSING.number, PROCESSING.email)
    assert time.monotonic() - started < 10


def test_woocommerce_wrong_key_is_logged_by_setting_name_never_by_value(woo, caplog) -> None:
    _, base = woo
    caplog.set_level(logging.ERROR)
    with pytest.raises(StoreUnavailable):
        WooCommerceStore(base, "ck_wrong", "cs_wrong_secret").find_verified_order(
            PROCESSING.number, PROCESSING.email
        )
    assert "WOOCOMMERCE_SECRET" in caplog.text and "cs_wrong_secret" not in caplog.text


def test_woocommerce_unknown_order_is_its_documented_404(woo) -> None:
    stand_in, base = woo
    assert woo_store(base).find_verified_order("399999", PROCESSING.email) is None
    assert ("GET", "/wp-json/wc/v3/orders/399999") in stand_in.seen


def test_woocommerce_categories_are_read_over_every_page(woo) -> None:
    stand_in, base = woo
    order = woo_store(base, page_size=1).find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert [i.category for i in order.items] == ["kitchen", "software"]  # slug "gift-card" style mapped back
    assert [p for m, p in stand_in.seen if p.endswith("/products")] == ["/wp-json/wc/v3/products"] * 2


def test_woocommerce_return_is_a_private_order_note_for_staff(woo) -> None:
    stand_in, base = woo
    outcome = woo_store(base).create_return(
        RECENT_DELIVERED.number, RECENT_DELIVERED.email, ["KT-100"], "lid broken, card 4111 1111 1111 1111"
    )
    (note,) = stand_in.notes[int(RECENT_DELIVERED.number)]
    assert outcome.rma in note["note"] and "KT-100" in note["note"] and not note["customer_note"]
    assert "4111 1111 1111 1111" not in note["note"]  # card numbers never leave the bot
    assert "nothing was refunded" in note["note"]
    assert outcome.label_mailed is False  # WooCommerce makes no label: the bot must not promise one


def test_woocommerce_cancel_puts_the_status_and_notes_the_reason(woo) -> None:
    stand_in, base = woo
    outcome = woo_store(base).cancel_order(PROCESSING.number, PROCESSING.email, "ordered twice")
    assert outcome.status is CancelStatus.CANCELLED
    assert stand_in.orders[int(PROCESSING.number)]["status"] == "cancelled"
    assert ("PUT", f"/wp-json/wc/v3/orders/{PROCESSING.number}") in stand_in.seen
    assert "ordered twice" in stand_in.notes[int(PROCESSING.number)][0]["note"]


def test_woocommerce_password_reset_points_to_the_lost_password_page(woo) -> None:
    stand_in, base = woo
    store = woo_store(base)
    before = len(stand_in.seen)
    assert store.request_password_reset(RECENT_DELIVERED.email, "s") is ResetOutcome.SELF_SERVICE
    assert store.password_reset_page == f"{base}/my-account/lost-password/"
    assert len(stand_in.seen) == before  # nothing was asked of WooCommerce


# --- JSON over HTTP ---------------------------------------------------------------------
def test_signatures_bind_method_path_body_and_time() -> None:
    secret = b"s3cret"
    header = sign(secret, "POST", "/orders/lookup", b'{"a":1}', now=1000)
    assert verify(secret, header, "POST", "/orders/lookup", b'{"a":1}', now=1100)
    assert not verify(secret, header, "POST", "/orders/lookup", b'{"a":2}', now=1100)
    assert not verify(secret, header, "POST", "/orders/300101/cancel", b'{"a":1}', now=1100)
    assert not verify(b"other", header, "POST", "/orders/lookup", b'{"a":1}', now=1100)
    assert not verify(secret, header, "POST", "/orders/lookup", b'{"a":1}', now=2000)  # replayed later
    assert not verify(secret, "garbage", "POST", "/orders/lookup", b"", now=1000)


def test_json_shop_refuses_a_wrong_secret(caplog) -> None:
    shop = json_shop.JsonShop().load(ORDERS)
    with serving(shop.app()) as base, pytest.raises(StoreUnavailable):
        JsonHttpStore(base, "not-the-secret").find_verified_order(PROCESSING.number, PROCESSING.email)
    assert "ORDER_API_SECRET" in caplog.text and "not-the-secret" not in caplog.text


def test_json_shop_under_a_path_prefix_signs_the_full_path() -> None:
    shop = json_shop.JsonShop().load(ORDERS)
    inner = shop.app()
    outer = Flask("prefix")
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/api/support": inner})
    with serving(outer) as base:
        store = JsonHttpStore(f"{base}/api/support", json_shop.SECRET, backoff=0.01)
        assert store.find_verified_order(PROCESSING.number, PROCESSING.email) is not None


def lax_shop(order: dict) -> Flask:
    """A careless shop endpoint that answers every lookup with the same order."""
    app = Flask("lax")
    app.post("/orders/lookup")(lambda: jsonify({"order": order}))
    return app


def test_json_adapter_checks_the_email_on_the_answer_itself() -> None:
    other = json_shop.JsonShop().load(ORDERS).orders[RECENT_DELIVERED.number]
    with serving(lax_shop(other)) as base:
        store = JsonHttpStore(base, "x", backoff=0.01)
        assert store.find_verified_order(RECENT_DELIVERED.number, PROCESSING.email) is None
        assert store.find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email) is not None


def test_json_adapter_refuses_a_malformed_order() -> None:
    broken = {"number": RECENT_DELIVERED.number, "email": RECENT_DELIVERED.email, "status": "teleported"}
    with serving(lax_shop(broken)) as base, pytest.raises(StoreUnavailable):
        JsonHttpStore(base, "x", backoff=0.01).find_verified_order(
            RECENT_DELIVERED.number, RECENT_DELIVERED.email
        )


def test_json_shop_mails_reset_links_only_to_accounts() -> None:
    shop = json_shop.JsonShop().load(ORDERS)
    with serving(shop.app()) as base:
        store = JsonHttpStore(base, json_shop.SECRET, backoff=0.01)
        assert store.request_password_reset(PROCESSING.email, "s") is ResetOutcome.ACCEPTED
        assert store.request_password_reset("nobody@example.org", "s") is ResetOutcome.ACCEPTED
    assert shop.mailed == [PROCESSING.email]


# --- choosing the order system ------------------------------------------------------------
def test_the_order_system_is_chosen_by_configuration(tmp_path) -> None:
    from bot.composition import shop_store_from
    from bot.settings import load_settings
    from bot.shop.store import SqlShopStore
    from tests.conftest import service_env

    base = service_env(tmp_path)
    assert isinstance(shop_store_from(load_settings(env=base), "sqlite://", b"k"), SqlShopStore)
    with pytest.raises(ValueError, match="WOOCOMMERCE_SECRET"):
        load_settings(
            env={
                **base,
                "ORDER_SYSTEM": "woocommerce",
                "WOOCOMMERCE_URL": "https://shop.example",
                "WOOCOMMERCE_KEY": "ck_1",
            }
        )
    with pytest.raises(ValueError, match="ORDER_SYSTEM must be one of"):
        load_settings(env={**base, "ORDER_SYSTEM": "magento"})
    woo = load_settings(
        env={
            **base,
            "ORDER_SYSTEM": "woocommerce",
            "WOOCOMMERCE_URL": "https://shop.example",
            "WOOCOMMERCE_KEY": "ck_1",
            "WOOCOMMERCE_SECRET": "cs_very_secret",
        }
    )
    assert isinstance(shop_store_from(woo, "sqlite://", b"k"), WooCommerceStore)
    assert "cs_very_secret" not in repr(woo) and "ck_1" not in repr(woo)
    api = load_settings(
        env={
            **base,
            "ORDER_SYSTEM": "json_http",
            "ORDER_API_URL": "https://shop.example/api",
            "ORDER_API_SECRET": "shared-secret",
        }
    )
    assert isinstance(shop_store_from(api, "sqlite://", b"k"), JsonHttpStore)
    assert "shared-secret" not in repr(api)
