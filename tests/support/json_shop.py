"""The reference shop side of the JSON-over-HTTP order API (docs/order-systems.md).

The tests serve it over real HTTP; a shop can read it as a worked example of the
contract: every request is signed, the shop verifies number + email itself, and it
answers with the JSON shapes the document lists. It keeps its orders in memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask, jsonify, request

from bot.shop.adapters.signing import HEADER, verify
from bot.shop.store import OrderStatus
from tests.support.shop_data import ShopOrder

SECRET = "json-shop-shared-secret-for-tests"
RESETS_PER_EMAIL_PER_HOUR = 3
CANCELLABLE = {OrderStatus.PROCESSING.value, OrderStatus.AWAITING_PAYMENT.value}
NOT_RETURNABLE = {"software", "gift_card", "hygiene", "custom_pc"}


def _error(code: str, message: str, status: int) -> Any:
    return jsonify({"error": code, "message": message}), status


@dataclass
class JsonShop:
    secret: str = SECRET
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    returns: dict[tuple[str, str], str] = field(default_factory=dict)  # (order, skus) -> RMA
    resets: list[tuple[str, float]] = field(default_factory=list)  # (email, when) of accepted requests
    mailed: list[str] = field(default_factory=list)  # addresses a reset link was mailed to
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, orders: tuple[ShopOrder, ...], today: date | None = None) -> JsonShop:
        today = today or date.today()
        for order in orders:
            delivered = order.delivered_at(today)
            self.orders[order.number] = {
                "number": order.number,
                "email": order.email,
                "status": order.status.value,
                "carrier": "Packeta" if order.status is OrderStatus.SHIPPED else None,
                "tracking_number": "Z123456789" if order.status is OrderStatus.SHIPPED else None,
                "ordered_at": order.ordered_at(today).isoformat(),
                "shipped_at": None,
                "delivered_at": delivered.isoformat() if delivered else None,
                "estimated_delivery": None,
                "items": [
                    {"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity}
                    for i in order.items
                ],
            }
            self.accounts.add(order.email)
        return self

    def _verified(self, number: str, email: str) -> dict[str, Any] | None:
        order = self.orders.get(number)
        return order if order is not None and order["email"] == (email or "").strip().lower() else None

    def app(self) -> Flask:
        app = Flask("json-shop-reference")

        @app.before_request
        def check_signature() -> Any:
            if not verify(
                self.secret.encode(),
                request.headers.get(HEADER, ""),
                request.method,
                request.script_root + request.path,
                request.get_data(),
            ):  # the full path
                return _error("bad_signature", "missing, stale or wrong X-Shop-Signature", 401)
            if not isinstance(request.get_json(silent=True), dict):
                return _error("bad_request", "the body must be a JSON object", 400)
            return None

        @app.post("/orders/lookup")
        def lookup() -> Any:
            body = request.get_json()
            order = self._verified(str(body.get("order_number", "")), str(body.get("email", "")))
            if order is None:
                return _error("not_found", "no order with this number and email", 404)
            return jsonify({"order": order})

        @app.post("/orders/<number>/returns")
        def create_return(number: str) -> Any:
            body = request.get_json()
            order = self._verified(number, str(body.get("email", "")))
            if order is None:
                return _error("not_verified", "number and email do not match", 403)
            items = {i["sku"]: i for i in order["items"]}
            skus = sorted(
                s for s in body.get("skus") or [] if s in items and items[s]["category"] not in NOT_RETURNABLE
            )
            if not skus:
                return _error("not_returnable", "none of these items can be returned", 422)
            with self._lock:
                key = (number, ",".join(skus))
                if key in self.returns:
                    return jsonify({"rma": self.returns[key], "created": False, "label_mailed": False}), 200
                self.returns[key] = f"RMA-{secrets.token_hex(4).upper()}"
                return jsonify({"rma": self.returns[key], "created": True, "label_mailed": False}), 201

        @app.post("/orders/<number>/cancel")
        def cancel(number: str) -> Any:
            body = request.get_json()
            order = self._verified(number, str(body.get("email", "")))
            if order is None:
                return _error("not_verified", "number and email do not match", 403)
            with self._lock:
                if order["status"] == OrderStatus.CANCELLED.value:
                    status = "already_cancelled"
                elif order["status"] in CANCELLABLE:
                    order["status"], status = OrderStatus.CANCELLED.value, "cancelled"
                else:
                    status = "too_late"
            return jsonify({"status": status, "order": order})

        @app.post("/password-resets")
        def password_reset() -> Any:
            email = str(request.get_json().get("email", "")).strip().lower()
            hour_ago = time.time() - 3600
            with self._lock:
                recent = sum(1 for e, when in self.resets if e == email and when > hour_ago)
                if recent >= RESETS_PER_EMAIL_PER_HOUR:
                    return jsonify({"status": "rate_limited"})  # 200: 429 means "API busy, retry"
                self.resets.append((email, time.time()))
                if email in self.accounts:
                    self.mailed.append(email)  # a real shop mails its reset link here
            return jsonify({"status": "accepted"}), 202

        return app
