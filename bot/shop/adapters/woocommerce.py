"""WooCommerce REST API v3 (``/wp-json/wc/v3``) as a ``ShopStore``.

What each part of the contract does on WooCommerce:

- verify: ``GET /orders/{number}``; the order counts only if its ``number`` and its billing
  email (trimmed, lower-cased) both match exactly. A 404 (``woocommerce_rest_shop_order_invalid_id``)
  is "no such order", indistinguishable from a wrong email.
- items: the order's ``line_items``; each item's category is its product's first category
  slug (``GET /products?include=...``, followed over pages with ``X-WP-TotalPages``).
- status: WooCommerce statuses map onto ``OrderStatus`` (see ``STATUS_MAP``). Core WooCommerce
  has no "shipped" status: ``completed`` (fulfilled) counts as delivered, from
  ``date_completed``; a custom ``shipped`` status (added by plugins) counts as shipped.
- cancel: ``PUT /orders/{id}`` with ``status=cancelled`` only while the order is pending,
  on hold, processing or failed; the reason becomes a private order note.
- return: WooCommerce has no returns API. The return is recorded as a private order note
  (RMA, items, reason) for the shop's staff. No label is made and nothing is refunded here;
  a repeated request for the same items finds the note and gives the same RMA.
- password reset: the REST API cannot start one. WordPress resets passwords on its own
  lost-password page, so the outcome is SELF_SERVICE with that page's address.

Authentication is the REST API key pair over HTTPS (HTTP Basic), read from the environment.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, datetime
from typing import Any

from requests import Response

from bot.shop.adapters.http import HttpApi
from bot.shop.policy import Eligibility, ItemView, ReturnPolicy, default_policy, order_eligibility, returnable
from bot.shop.security import normalise_email, redact
from bot.shop.store import (
    CancelOutcome,
    CancelStatus,
    OrderStatus,
    OrderView,
    ResetOutcome,
    ReturnOutcome,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

STATUS_MAP = {
    "pending": OrderStatus.AWAITING_PAYMENT,
    "on-hold": OrderStatus.AWAITING_PAYMENT,
    "processing": OrderStatus.PROCESSING,
    "shipped": OrderStatus.SHIPPED,  # not in core: added by shipping plugins
    "completed": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
    "failed": OrderStatus.PAYMENT_FAILED,
}
# Nothing has left the warehouse in these: cancelling is allowed.
CANCELLABLE = frozenset({"pending", "on-hold", "processing", "failed"})
NOTE_MARK = re.compile(r"\[support-return rma=(RMA-[0-9A-F]+) skus=([^\]]*)\]")
TRACKING_META = "_wc_shipment_tracking_items"  # the Shipment Tracking extension's meta key
ORDER_NUMBER = re.compile(r"^\d{1,12}$")


class WooCommerceStore:
    def __init__(
        self,
        site_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        page_size: int = 100,
        password_reset_page: str | None = None,
        policy: ReturnPolicy | None = None,
    ) -> None:
        self.policy = policy or default_policy()
        site = site_url.rstrip("/")
        self.api = HttpApi(
            f"{site}/wp-json/wc/v3",
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            auth=(consumer_key, consumer_secret),
        )
        self.page_size = page_size
        self.password_reset_page = password_reset_page or f"{site}/my-account/lost-password/"

    # --- reading -------------------------------------------------------------------
    def _order_json(self, order_number: str, email: str) -> dict[str, Any] | None:
        address = normalise_email(email)
        if not address or not ORDER_NUMBER.match(order_number or ""):
            return None
        response = self.api.request("GET", f"/orders/{order_number}")
        if response.status_code == 404:
            return None
        data = _json(response, "GET /orders/{id}")
        billing = normalise_email(str((data.get("billing") or {}).get("email") or ""))
        if str(data.get("number")) != order_number or billing != address:
            return None
        return data

    def find_verified_order(self, order_number: str, email: str) -> OrderView | None:
        data = self._order_json(order_number, email)
        return self._view(data) if data else None

    def _categories(self, product_ids: list[int]) -> dict[int, str]:
        """Product id -> first category slug (as policy names it: dashes become underscores)."""
        wanted = sorted({p for p in product_ids if p})
        found: dict[int, str] = {}
        page, pages = 1, 1
        while wanted and page <= pages:
            response = self.api.request(
                "GET",
                "/products",
                params={"include": ",".join(map(str, wanted)), "per_page": self.page_size, "page": page},
            )
            for product in _json(response, "GET /products"):
                categories = product.get("categories") or []
                if categories:
                    found[int(product["id"])] = str(categories[0].get("slug", "")).replace("-", "_")
            pages = int(response.headers.get("X-WP-TotalPages", "1") or 1)
            page += 1
        return found

    def _view(self, data: dict[str, Any]) -> OrderView:
        lines = data.get("line_items") or []
        categories = self._categories([int(line.get("product_id") or 0) for line in lines])
        items = tuple(
            ItemView(
                sku=str(line.get("sku") or line.get("product_id") or line.get("id")),
                name=str(line.get("name") or ""),
                category=categories.get(int(line.get("product_id") or 0), "uncategorized"),
                quantity=int(line.get("quantity") or 1),
            )
            for line in lines
        )
        raw_status = str(data.get("status") or "")
        tracking = _tracking(data.get("meta_data") or [])
        completed = _date(data.get("date_completed"))
        status = STATUS_MAP.get(raw_status, OrderStatus.PROCESSING)
        return OrderView(
            number=str(data.get("number")),
            status=status.value,
            carrier=tracking.get("carrier"),
            tracking_number=tracking.get("tracking_number"),
            ordered_at=_date(data.get("date_created")) or date.today(),
            shipped_at=tracking.get("shipped_at"),
            delivered_at=completed if status is OrderStatus.DELIVERED else None,
            estimated_delivery=None,
            items=items,
        )

    def eligibility(self, order: OrderView, today: date) -> Eligibility:
        verdict = order_eligibility(order.status, order.delivered_at, today, self.policy)
        if verdict is Eligibility.ELIGIBLE and not returnable(list(order.items), self.policy)[0]:
            return Eligibility.EXCLUDED
        return verdict

    # --- writing -------------------------------------------------------------------
    def _add_note(self, order_id: int, note: str) -> None:
        response = self.api.request(
            "POST", f"/orders/{order_id}/notes", json={"note": note, "customer_note": False}
        )
        _json(response, "POST /orders/{id}/notes")

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome:
        data = self._order_json(order_number, email)
        if data is None:
            raise PermissionError("order not verified")
        order = self._view(data)
        ok, _ = returnable([i for i in order.items if i.sku in set(skus)], self.policy)
        if not ok:
            raise ValueError("no returnable items selected")
        key = ",".join(sorted(i.sku for i in ok))
        notes = _json(self.api.request("GET", f"/orders/{data['id']}/notes"), "GET /orders/{id}/notes")
        for note in notes:
            match = NOTE_MARK.search(str(note.get("note") or ""))
            if match and match.group(2) == key:
                return ReturnOutcome(match.group(1), created=False)
        rma = f"RMA-{secrets.token_hex(4).upper()}"
        listed = "\n".join(f"- {i.name} ({i.sku}) x{i.quantity}" for i in ok)
        self._add_note(
            int(data["id"]),
            f"Return requested by the customer in the support chat.\nRMA: {rma}\nItems:\n{listed}\n"
            f"Reason: {redact(reason)[:1000]}\n"
            "No label was sent and nothing was refunded: please handle this return.\n"
            f"[support-return rma={rma} skus={key}]",
        )
        return ReturnOutcome(rma, created=True, label_mailed=False)

    def cancel_order(self, order_number: str, email: str, reason: str = "") -> CancelOutcome:
        data = self._order_json(order_number, email)
        if data is None:
            raise PermissionError("order not verified")
        raw_status = str(data.get("status") or "")
        if raw_status == "cancelled":
            return CancelOutcome(CancelStatus.ALREADY_CANCELLED, self._view(data))
        if raw_status not in CANCELLABLE:
            return CancelOutcome(CancelStatus.TOO_LATE, self._view(data))
        # WooCommerce has no conditional update: the status was read just now, and a
        # PUT of "cancelled" is harmless to repeat.
        response = self.api.request("PUT", f"/orders/{data['id']}", json={"status": "cancelled"})
        after = _json(response, "PUT /orders/{id}")
        self._add_note(
            int(data["id"]),
            f"Cancelled by the customer in the support chat. Reason: {redact(reason)[:1000] or '-'}",
        )
        return CancelOutcome(CancelStatus.CANCELLED, self._view(after))

    def request_password_reset(self, email: str, session_id: str) -> ResetOutcome:
        # The REST API cannot start a reset; WordPress's lost-password page does it.
        return ResetOutcome.SELF_SERVICE


def _json(response: Response, what: str) -> Any:
    """The body of a successful answer; StoreUnavailable (logged with WooCommerce's code) otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.ok and body is not None:
        return body
    code = body.get("code") if isinstance(body, dict) else None
    if response.status_code == 401:
        log.error("WooCommerce refused the API key (%s): check WOOCOMMERCE_KEY and WOOCOMMERCE_SECRET", code)
    else:
        log.warning("WooCommerce answered %s to %s (%s)", response.status_code, what, code)
    raise StoreUnavailable(f"{what}: HTTP {response.status_code} {code or ''}".strip())


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def _tracking(meta: list[dict[str, Any]]) -> dict[str, Any]:
    for entry in meta:
        if entry.get("key") == TRACKING_META and entry.get("value"):
            first = entry["value"][0]
            shipped = first.get("date_shipped")
            return {
                "carrier": first.get("custom_tracking_provider") or first.get("tracking_provider") or None,
                "tracking_number": first.get("tracking_number") or None,
                "shipped_at": date.fromtimestamp(int(shipped)) if str(shipped or "").isdigit() else None,
            }
    return {}
