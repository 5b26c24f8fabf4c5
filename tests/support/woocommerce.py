"""A stand-in for a WooCommerce shop's REST API v3, served over real HTTP in the tests.

WooCommerce cannot be reached from the test machine, so this answers the way the
WooCommerce REST API documentation describes (woocommerce.github.io/woocommerce-rest-api-docs):
order and product JSON, order notes, errors as ``{"code", "message", "data": {"status"}}``
(e.g. ``woocommerce_rest_shop_order_invalid_id``), ``X-WP-Total``/``X-WP-TotalPages``
pagination, HTTP Basic API keys, and 429/503 answers with ``Retry-After`` on demand.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil
from typing import Any

from flask import Flask, Response, jsonify, request

from bot.shop.store import OrderStatus
from tests.support.shop_data import ShopOrder

KEY, SECRET = "ck_test_0123456789abcdef", "cs_test_fedcba9876543210"
WOO_STATUS = {
    OrderStatus.PROCESSING: "processing",
    OrderStatus.SHIPPED: "shipped",  # a custom status, as shipping plugins add it
    OrderStatus.DELIVERED: "completed",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.AWAITING_PAYMENT: "pending",
    OrderStatus.REFUNDED: "refunded",
    OrderStatus.PAYMENT_FAILED: "failed",
}


def _stamp(day: date | None) -> str | None:
    return None if day is None else datetime.combine(day, time(10, 30)).isoformat()


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "data": {"status": status}}), status


@dataclass
class Fault:
    status: int
    retry_after: str | None = None


@dataclass
class WooCommerceStandIn:
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, orders: tuple[ShopOrder, ...], today: date | None = None) -> WooCommerceStandIn:
        today = today or date.today()
        for order in orders:
            for item in order.items:
                self.products[item.product_id] = {
                    "id": item.product_id,
                    "name": item.name,
                    "sku": item.sku,
                    "categories": [
                        {
                            "id": item.product_id * 10,
                            "name": item.category,
                            "slug": item.category.replace("_", "-"),
                        }
                    ],
                }
            number = int(order.number)
            meta = []
            if order.status is OrderStatus.SHIPPED:
                shipped = datetime.combine(today - timedelta(days=1), time(9)).timestamp()
                meta.append(
                    {
                        "id": 1,
                        "key": "_wc_shipment_tracking_items",
                        "value": [
                            {
                                "tracking_provider": "packeta",
                                "tracking_number": "Z123456789",
                                "date_shipped": str(int(shipped)),
                            }
                        ],
                    }
                )
            self.orders[number] = {
                "id": number,
                "parent_id": 0,
                "number": order.number,
                "order_key": f"wc_order_{order.number}",
                "created_via": "checkout",
                "status": WOO_STATUS[order.status],
                "currency": "EUR",
                "date_created": _stamp(order.ordered_at(today)),
                "date_created_gmt": _stamp(order.ordered_at(today)),
                "date_completed": _stamp(order.delivered_at(today)),
                "total": "39.98",
                "customer_id": 0,
                "billing": {
                    "first_name": order.name,
                    "last_name": "",
                    "email": order.email.upper(),
                    "country": order.lang.upper(),
                },
                "shipping": {"first_name": order.name, "last_name": ""},
                "payment_method": "bacs",
                "meta_data": meta,
                "line_items": [
                    {
                        "id": number * 10 + n,
                        "name": item.name,
                        "product_id": item.product_id,
                        "variation_id": 0,
                        "quantity": item.quantity,
                        "sku": item.sku,
                        "price": item.price_cents / 100,
                        "total": f"{item.price_cents * item.quantity / 100:.2f}",
                    }
                    for n, item in enumerate(order.items)
                ],
            }
            self.notes[number] = []
        return self

    def app(self) -> Flask:
        app = Flask("woocommerce-stand-in")
        base = "/wp-json/wc/v3"

        @app.before_request
        def gate() -> Any:
            self.seen.append((request.method, request.path))
            with self._lock:
                fault = self.faults.popleft() if self.faults else None
            if fault is not None:
                response, status = _error(
                    "woocommerce_rest_too_many_requests" if fault.status == 429 else "internal_server_error",
                    "Too many requests." if fault.status == 429 else "There has been a critical error.",
                    fault.status,
                )
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = fault.retry_after
                return response, status
            auth = request.authorization
            if auth is None or (auth.username, auth.password) != (KEY, SECRET):
                return _error("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)
            return None

        @app.get(f"{base}/orders/<int:order_id>")
        def get_order(order_id: int) -> Any:
            order = self.orders.get(order_id)
            if order is None:
                return _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
            return jsonify(order)

        @app.put(f"{base}/orders/<int:order_id>")
        def update_order(order_id: int) -> Any:
            order = self.orders.get(order_id)
            if order is None:
                return _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
            body = request.get_json(silent=True) or {}
            if "status" in body:
                if body["status"] not in set(WOO_STATUS.values()) - {"shipped"} | {"on-hold"}:
                    return _error("rest_invalid_param", "Invalid parameter(s): status", 400)
                order["status"] = body["status"]
            return jsonify(order)

        @app.get(f"{base}/orders/<int:order_id>/notes")
        def list_notes(order_id: int) -> Any:
            if order_id not in self.orders:
                return _error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
            return jsonify(list(reversed(self.notes[order_id])))  # newest first

        @app.post(f"{base}/orders/<int:order_id>/notes")
        def add_note(order_id: int) -> Any:
            if order_id not in self.orders:
                return _error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
            body = request.get_json(silent=True) or {}
            if not body.get("note"):
                return _error("rest_missing_callback_param", "Missing parameter(s): note", 400)
            note = {
                "id": next(self._ids),
                "author": "system",
                "date_created": datetime.now().isoformat(timespec="seconds"),
                "date_created_gmt": datetime.utcnow().isoformat(timespec="seconds"),
                "note": body["note"],
                "customer_note": bool(body.get("customer_note")),
            }
            self.notes[order_id].append(note)
            return jsonify(note), 201

        @app.get(f"{base}/products")
        def list_products() -> Any:
            wanted = [int(x) for x in request.args.get("include", "").split(",") if x.strip().isdigit()]
            found = (
                [self.products[p] for p in sorted(wanted) if p in self.products]
                if wanted
                else list(self.products.values())
            )
            per_page = min(max(int(request.args.get("per_page", 10)), 1), 100)
            page = max(int(request.args.get("page", 1)), 1)
            pages = max(ceil(len(found) / per_page), 1)
            if page > pages and found:
                return _error(
                    "rest_post_invalid_page_number",
                    "The page number requested is larger than the number of pages available.",
                    400,
                )
            response = jsonify(found[(page - 1) * per_page : page * per_page])
            response.headers["X-WP-Total"] = str(len(found))
            response.headers["X-WP-TotalPages"] = str(pages)
            return response

        return app
