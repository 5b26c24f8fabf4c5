"""What the customer already told us in this session, so no flow asks for it twice.

A verified order (``verified_order``) and the email that verified it
(``verified_email``) carry across flows: a return, a handoff or a second question
about the same order reuses them. The email is reused for another order only when
the store confirms that order belongs to it, so nothing is shown unverified.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from bot import composition
from bot.shop.security import extract_order_number

# The intents that open a form about an order: only then is the known order reused.
FLOW_STARTS = {"order_status", "return_request", "cancel_order", "inform"}


def flow_is_starting(tracker: Tracker) -> bool:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return intent in FLOW_STARTS and tracker.get_slot("requested_slot") is None


def known_order(tracker: Tracker) -> str | None:
    """The order to reuse when a flow starts without a number in the message."""
    if not flow_is_starting(tracker):
        return None
    if extract_order_number((tracker.latest_message or {}).get("text") or ""):
        return None  # the customer named an order: that one counts
    return tracker.get_slot("verified_order")


def known_email(tracker: Tracker, order_number: str | None) -> str | None:
    """The verified email, if it is the one on ``order_number``."""
    email = tracker.get_slot("verified_email")
    if not email or not order_number:
        return None
    if order_number == tracker.get_slot("verified_order"):
        return email
    order = composition.shop_store().find_verified_order(order_number, email)
    return email if order is not None else None
