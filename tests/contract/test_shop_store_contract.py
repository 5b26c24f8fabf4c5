"""The ShopStore contract: what the bot relies on, asked of every adapter the same way.

Runs once per adapter (see conftest.py): demo SQL store, WooCommerce, JSON-over-HTTP.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.shop.policy import Eligibility
from bot.shop.store import CancelStatus, OrderStatus, ResetOutcome, ShopStore
from tests.support.shop_data import (
    CANCELLED,
    EXCLUDED_ONLY,
    IN_TRANSIT,
    OLD_DELIVERED,
    PROCESSING,
    RECENT_DELIVERED,
)

RMA = re.compile(r"^RMA-[0-9A-Z]{4,}$")


# --- verify --------------------------------------------------------------------------
def test_verify_needs_the_number_and_the_email_on_that_order(store: ShopStore) -> None:
    order = store.find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert order is not None and order.number == RECENT_DELIVERED.number
    # the email is compared normalised: case and surrounding spaces do not matter
    assert (
        store.find_verified_order(RECENT_DELIVERED.number, f"  {RECENT_DELIVERED.email.upper()} ") is not None
    )
    # someone else's email, an unknown number, a near miss: nothing
    assert store.find_verified_order(RECENT_DELIVERED.number, IN_TRANSIT.email) is None
    assert store.find_verified_order("399999", RECENT_DELIVERED.email) is None
    assert store.find_verified_order(RECENT_DELIVERED.number, "anna.kovacova@example.s") is None
    assert store.find_verified_order(RECENT_DELIVERED.number, "x" + RECENT_DELIVERED.email) is None


@pytest.mark.parametrize(
    ("number", "email"),
    [
        ("", ""),
        ("300101", "not-an-email"),
        ("300101' OR '1'='1", "anna.kovacova@example.sk"),
        ("300101/../300102", "peter.novak@example.com"),
        ("300101?status=any", "anna.kovacova@example.sk"),
        ("300101", "anna.kovacova@example.sk' --"),
        ("9" * 40, "anna.kovacova@example.sk"),
    ],
)
def test_hostile_input_finds_nothing(store: ShopStore, number: str, email: str) -> None:
    assert store.find_verified_order(number, email) is None


# --- order and items -------------------------------------------------------------------
def test_order_reports_status_and_dates(store: ShopStore) -> None:
    today = date.today()
    delivered = store.find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert delivered.status == OrderStatus.DELIVERED
    assert delivered.ordered_at == RECENT_DELIVERED.ordered_at(today)
    assert delivered.delivered_at == RECENT_DELIVERED.delivered_at(today)
    assert store.find_verified_order(IN_TRANSIT.number, IN_TRANSIT.email).status == OrderStatus.SHIPPED
    assert store.find_verified_order(PROCESSING.number, PROCESSING.email).status == OrderStatus.PROCESSING
    assert store.find_verified_order(CANCELLED.number, CANCELLED.email).status == OrderStatus.CANCELLED


def test_items_carry_sku_name_quantity_and_category(store: ShopStore) -> None:
    order = store.find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert [(i.sku, i.name, i.quantity, i.category) for i in order.items] == [
        (i.sku, i.name, i.quantity, i.category) for i in RECENT_DELIVERED.items
    ]
    mice = store.find_verified_order(PROCESSING.number, PROCESSING.email).items
    assert [(i.sku, i.quantity) for i in mice] == [("MS-400", 2)]


# --- return ---------------------------------------------------------------------------
def test_eligibility_follows_the_return_policy(store: ShopStore) -> None:
    today = date.today()

    def verdict(order: object) -> Eligibility:
        return store.eligibility(store.find_verified_order(order.number, order.email), today)

    assert verdict(RECENT_DELIVERED) is Eligibility.ELIGIBLE
    assert verdict(OLD_DELIVERED) is Eligibility.WINDOW_CLOSED
    assert verdict(IN_TRANSIT) is Eligibility.NOT_DELIVERED
    assert verdict(PROCESSING) is Eligibility.NOT_DELIVERED
    assert verdict(EXCLUDED_ONLY) is Eligibility.EXCLUDED
    recent = store.find_verified_order(RECENT_DELIVERED.number, RECENT_DELIVERED.email)
    assert store.eligibility(recent, today + timedelta(days=60)) is Eligibility.WINDOW_CLOSED


def test_return_is_recorded_once_for_the_same_items(store: ShopStore) -> None:
    first = store.create_return(
        RECENT_DELIVERED.number, RECENT_DELIVERED.email, ["KT-100", "SW-200"], "broken lid"
    )
    assert first.created and RMA.match(first.rma)
    # the software cannot be returned, so the return covers the kettle; asking again (even
    # for the kettle alone, with another reason) finds the same return
    again = store.create_return(RECENT_DELIVERED.number, RECENT_DELIVERED.email.upper(), ["KT-100"], "again")
    assert (again.rma, again.created) == (first.rma, False)
    assert again.label_mailed is False  # nothing new is sent for a return that exists


def test_return_needs_verification_and_returnable_items(store: ShopStore) -> None:
    with pytest.raises(PermissionError):
        store.create_return(RECENT_DELIVERED.number, IN_TRANSIT.email, ["KT-100"], "not mine")
    with pytest.raises(ValueError):
        store.create_return(RECENT_DELIVERED.number, RECENT_DELIVERED.email, ["SW-200"], "excluded item")
    with pytest.raises(ValueError):
        store.create_return(
            RECENT_DELIVERED.number, RECENT_DELIVERED.email, ["HP-300"], "item of another order"
        )


# --- cancel ---------------------------------------------------------------------------
def test_cancel_a_processing_order_once(store: ShopStore) -> None:
    outcome = store.cancel_order(PROCESSING.number, PROCESSING.email, "ordered twice")
    assert outcome.status is CancelStatus.CANCELLED and outcome.order.status == OrderStatus.CANCELLED
    assert store.find_verified_order(PROCESSING.number, PROCESSING.email).status == OrderStatus.CANCELLED
    again = store.cancel_order(PROCESSING.number, PROCESSING.email)
    assert again.status is CancelStatus.ALREADY_CANCELLED


def test_cancel_is_refused_once_the_order_left(store: ShopStore) -> None:
    for order, status in ((IN_TRANSIT, OrderStatus.SHIPPED), (RECENT_DELIVERED, OrderStatus.DELIVERED)):
        outcome = store.cancel_order(order.number, order.email, "changed my mind")
        assert outcome.status is CancelStatus.TOO_LATE and outcome.order.status == status
        assert store.find_verified_order(order.number, order.email).status == status
    assert store.cancel_order(CANCELLED.number, CANCELLED.email).status is CancelStatus.ALREADY_CANCELLED


def test_cancel_needs_verification_and_changes_nothing_without_it(store: ShopStore) -> None:
    with pytest.raises(PermissionError):
        store.cancel_order(PROCESSING.number, RECENT_DELIVERED.email, "not mine")
    with pytest.raises(PermissionError):
        store.cancel_order("399999", PROCESSING.email)
    assert store.find_verified_order(PROCESSING.number, PROCESSING.email).status == OrderStatus.PROCESSING


# --- password reset --------------------------------------------------------------------
def test_reset_answers_the_same_for_any_address(store: ShopStore) -> None:
    known = store.request_password_reset(RECENT_DELIVERED.email, "session-a")
    unknown = store.request_password_reset("nobody.here@example.org", "session-b")
    assert known is unknown
    assert known in {ResetOutcome.ACCEPTED, ResetOutcome.NOT_SENT, ResetOutcome.SELF_SERVICE}
    if known is ResetOutcome.SELF_SERVICE:
        assert re.match(r"^https?://\S+$", store.password_reset_page or "")


def test_resets_that_send_mail_are_rate_limited_alike_for_known_and_unknown(store: ShopStore) -> None:
    if store.request_password_reset(RECENT_DELIVERED.email, "s0") is ResetOutcome.SELF_SERVICE:
        pytest.skip("this store sends nothing: the shop's own site handles resets")
    known = [store.request_password_reset(RECENT_DELIVERED.email, f"s{n}") for n in range(1, 10)]
    unknown = [store.request_password_reset("nobody.here@example.org", f"u{n}") for n in range(10)]
    assert ResetOutcome.RATE_LIMITED in known
    assert known.index(ResetOutcome.RATE_LIMITED) + 1 == unknown.index(ResetOutcome.RATE_LIMITED)
