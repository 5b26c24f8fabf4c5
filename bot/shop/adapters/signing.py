"""HMAC signatures of the JSON-over-HTTP order API (docs/order-systems.md).

``X-Shop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<METHOD>.<path>.<body>")>``.
The shop checks it in constant time and refuses a timestamp more than five minutes off,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Shop-Signature"
MAX_SKEW_SECONDS = 300


def sign(secret: bytes, method: str, path: str, body: bytes, now: float | None = None) -> str:
    stamp = int(time.time() if now is None else now)
    digest = hmac.new(secret, f"{stamp}.{method.upper()}.{path}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def verify(secret: bytes, header: str, method: str, path: str, body: bytes, now: float | None = None) -> bool:
    """True when ``header`` signs exactly this request and is fresh."""
    try:
        parts = dict(part.strip().split("=", 1) for part in (header or "").split(","))
        stamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > MAX_SKEW_SECONDS:
        return False
    expected = sign(secret, method, path, body, now=stamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
