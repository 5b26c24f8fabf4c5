"""Hashing helpers: nothing secret or personal is stored or logged in the clear."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
ORDER_NUMBER_PATTERN = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def normalise_email(email: str) -> str | None:
    """Lower-cased, trimmed address, or None when it is not an email address."""
    candidate = (email or "").strip().strip("<>.,;").lower()
    if len(candidate) > 254 or not EMAIL_PATTERN.match(candidate):
        return None
    return candidate


def extract_email(text: str) -> str | None:
    """The first well-formed email address in free text, normalised."""
    for word in (text or "").split():
        email = normalise_email(word)
        if email:
            return email
    return None


def extract_order_number(text: str) -> str | None:
    match = ORDER_NUMBER_PATTERN.search(text or "")
    return match.group(1) if match else None


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256: stable for lookups and rate limits, useless to whoever reads the table."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def redact(text: str) -> str:
    """Mask card numbers (Luhn-valid 13-19 digit runs) before text is logged or stored."""

    def mask(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return "[card number removed]"
        return match.group(0)

    return _CARD.sub(mask, text or "")
