"""The generic JSON-over-HTTP order API as a ``ShopStore``.

The contract (endpoints, JSON shapes, signatures, errors) is docs/order-systems.md; a
reference implementation of the shop's side is tests/support/json_shop.py. The shop
verifies number + email itself, and this adapter checks the email on the answer again,
so a lax shop endpoint still cannot hand out someone else's order.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from requests import Response

from bot.shop.adapters.http import HttpApi
from bot.shop.adapters.signing import HEADER, sign
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
ORDER_NUMBER = re.compile(r"^\d{1,12}$")
API_VERSION = "1"


class JsonHttpStore:
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        password_reset_page: str | None = None,
        policy: ReturnPolicy | None = None,
    ) -> None:
        self.policy = policy or default_policy()
        self.api = HttpApi(base_url, timeout=timeout, retries=retries, backoff=backoff)
        self._secret = secret.encode()
        self.password_reset_page = password_reset_page

    def _post(self, path: str, payload: dict[str, Any]) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        signed_path = urlsplit(self.api.base_url + path).path  # what the shop's server sees
        headers = {
            "Content-Type": "application/json",
            "X-Order-Api-Version": API_VERSION,
            HEADER: sign(self._secret, "POST", signed_path, body),
        }
        response = self.api.request("POST", path, data=body, headers=headers)
        if response.status_code == 401:
            log.error("the order API refused our signature: ORDER_API_SECRET differs from the shop's")
            raise StoreUnavailable(f"POST {path}: HTTP 401")
        return response

    def _lookup(self, order_number: str, email: str) -> dict[str, Any] | None:
        address = normalise_email(email)
        if not address or not ORDER_NUMBER.match(order_number or ""):
            return None
        response = self._post("/orders/lookup", {"order_number": order_number, "email": address})
        if response.status_code == 404:
            return None
        data = _body(response, "/orders/lookup")
        order = data.get("order") or {}
        if (
            str(order.get("number")) != order_number
            or normalise_email(str(order.get("email") or "")) != address
        ):
            log.warning("the order API answered a lookup with another order or email; ignored")
            return None
        return order

    def find_verified_order(self, order_number: str, email: str) -> OrderView | None:
        order = self._lookup(order_number, email)
        return _view(order) if order else None

    def eligibility(self, order: OrderView, today: date) -> Eligibility:
        verdict = order_eligibility(order.status, order.delivered_at, today, self.policy)
        if verdict is Eligibility.ELIGIBLE and not returnable(list(order.items), self.policy)[0]:
            return Eligibility.EXCLUDED
        return verdict

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome:
        order = self.find_verified_order(order_number, email)
        if order is None:
            raise PermissionError("order not verified")
        ok, _ = returnable([i for i in order.items if i.sku in set(skus)], self.policy)
        if not ok:
            raise ValueError("no returnable items selected")
        response = self._post(
            f"/orders/{order_number}/returns",
            {
                "email": normalise_email(email),
                "skus": sorted(i.sku for i in ok),
                "reason": redact(reason)[:1000],
            },
        )
        if response.status_code == 403:
            raise PermissionError("order not verified")
        if response.status_code == 422:
            raise ValueError("no returnable items selected")
        data = _body(response, "/orders/{number}/returns")
        return ReturnOutcome(
            str(data["rma"]), created=bool(data.get("created")), label_mailed=bool(data.get("label_mailed"))
        )

    def cancel_order(self, order_number: str, email: str, reason: str = "") -> CancelOutcome:
        if self._lookup(order_number, email) is None:
            raise PermissionError("order not verified")
        response = self._post(
            f"/orders/{order_number}/cancel",
            {"email": normalise_email(email), "reason": redact(reason)[:1000]},
        )
        if response.status_code == 403:
            raise PermissionError("order not verified")
        data = _body(response, "/orders/{number}/cancel")
        try:
            status = CancelStatus(data.get("status"))
        except ValueError as exc:
            raise StoreUnavailable(f"unknown cancel status {data.get('status')!r}") from exc
        return CancelOutcome(status, _view(data["order"]))

    def request_password_reset(self, email: str, session_id: str) -> ResetOutcome:
        address = normalise_email(email) or (email or "").strip().lower()[:254]
        response = self._post("/password-resets", {"email": address})
        data = _body(response, "/password-resets")
        try:
            outcome = ResetOutcome(data.get("status"))
        except ValueError as exc:
            raise StoreUnavailable(f"unknown reset status {data.get('status')!r}") from exc
        if outcome is ResetOutcome.SELF_SERVICE and not self.password_reset_page:
            raise StoreUnavailable("self_service reset without ORDER_API_RESET_PAGE")
        return outcome


def _body(response: Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.ok and isinstance(data, dict):
        return data
    code = data.get("error") if isinstance(data, dict) else None
    log.warning("the order API answered %s to %s (%s)", response.status_code, what, code)
    raise StoreUnavailable(f"{what}: HTTP {response.status_code} {code or ''}".strip())


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _view(order: dict[str, Any]) -> OrderView:
    try:
        status = OrderStatus(order["status"])
        return OrderView(
            number=str(order["number"]),
            status=status.value,
            carrier=order.get("carrier"),
            tracking_number=order.get("tracking_number"),
            ordered_at=_day(order["ordered_at"]) or date.today(),
            shipped_at=_day(order.get("shipped_at")),
            delivered_at=_day(order.get("delivered_at")),
            estimated_delivery=_day(order.get("estimated_delivery")),
            items=tuple(
                ItemView(
                    sku=str(item["sku"]),
                    name=str(item["name"]),
                    category=str(item.get("category") or ""),
                    quantity=int(item.get("quantity") or 1),
                    names={str(k): str(v) for k, v in (item.get("names") or {}).items()},
                )
                for item in order.get("items") or []
            ),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreUnavailable(f"malformed order from the order API ({type(exc).__name__})") from exc
