"""Embedding the widget on the shop's own site: which origins may, and saying why when one may not.

A browser on ``https://www.shop.example`` that loads the widget from the gateway needs its origin
in ``allowed_origins`` of shop.yml (or ``ALLOWED_ORIGINS``). Without it the browser blocks every
answer; so a refused origin is logged (once per origin and process) naming the setting, and
``GET /api/shop`` - public facts, readable from any origin - tells the widget, which then shows
a plain message instead of reconnecting forever.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request, send_file

log = logging.getLogger(__name__)
shop_blueprint = Blueprint("shop", __name__)
SETTING_HINT = "add it to allowed_origins in shop.yml (or to ALLOWED_ORIGINS) and restart the gateway"


def same_origin(origin: str | None, host: str | None) -> bool:
    if not origin or not host:
        return origin is None  # non-browser clients send no Origin
    return origin in (f"http://{host}", f"https://{host}")


class OriginGuard:
    """Decides an Origin and warns about each refused one once."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def allows(self, origin: str | None, host: str | None) -> bool:
        return same_origin(origin, host) or origin in self.allowed

    def check(self, origin: str | None, host: str | None) -> bool:
        """``allows``, logging a refused origin (at most 1,000 distinct ones are remembered)."""
        if self.allows(origin, host):
            return True
        with self._lock:
            first = origin not in self._warned and len(self._warned) < 1000
            if first:
                self._warned.add(str(origin))
        if first:
            log.warning("widget refused on origin %s (not an allowed origin): %s", str(origin)[:200], SETTING_HINT)
        return False


def guard() -> OriginGuard:
    return current_app.extensions["origin_guard"]


@shop_blueprint.get("/api/shop")
def shop_facts() -> Any:
    """What the widget needs to look like the shop, and whether this page may embed it."""
    settings = current_app.extensions["settings"]
    origin = request.headers.get("Origin")
    allowed = guard().check(origin, request.host)
    body = {**settings.shop.widget_config(), "contact_email": settings.shop.data.contact.email}
    body["embedding"] = {"allowed": allowed}
    if not allowed:
        body["embedding"]["hint"] = f"origin {origin} is not allowed: {SETTING_HINT}"
    response: Response = jsonify(body)
    # Public facts: any page may read them (so a refused page learns why); nothing else is shared.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    response.headers.add("Vary", "Origin")
    return response


@shop_blueprint.get("/shop/logo")
def logo() -> Any:
    path = current_app.extensions["settings"].shop.logo_file()
    if path is None:
        abort(404)
    response = send_file(path, max_age=3600)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # shown on the shop's own pages
    return response
