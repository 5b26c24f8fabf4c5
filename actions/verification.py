"""Order verification shared by the order-status and return forms.

An order is shown only when its number and the email on it both match; a
mismatch never says which of the two was wrong, or whether the order exists.
Failed checks are counted in the database (bot.shop.verification), never in
slots, so nothing the customer says resets them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.carry_over import known_email, known_order
from actions.store_errors import unavailable
from bot import composition
from bot.shop.security import extract_order_number, normalise_email
from bot.shop.store import StoreUnavailable
from bot.shop.verification import Lockout, Requester, VerificationResult


def checked_email(value: Any, dispatcher: CollectingDispatcher) -> str | None:
    """The normalised address, or None after telling the customer what is wrong."""
    email = normalise_email(str(value or ""))
    if email is None:
        dispatcher.utter_message(response="utter_invalid_email")
    return email


class EmailForm(FormValidationAction, ABC):
    """A form that only needs a well-formed email address."""

    @abstractmethod
    def name(self) -> str: ...

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"email": checked_email(value, dispatcher)}


def client_address(tracker: Tracker) -> str | None:
    """The address the gateway saw, sent as message metadata; absent when Rasa is talked to directly."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    value = metadata.get("client_ip") if isinstance(metadata, dict) else None
    return value[:64] if isinstance(value, str) and value else None


def requester(tracker: Tracker) -> Requester:
    return Requester(tracker.sender_id, client_address(tracker))


def lockout(tracker: Tracker) -> Lockout | None:
    """Whether this conversation, client, order number or email may not verify an order now."""
    return composition.verification_guard().lockout(
        requester(tracker), tracker.get_slot("order_number"), tracker.get_slot("email")
    )


def verify(tracker: Tracker, order_number: str, email: str) -> VerificationResult:
    """Check a number + email pair; every mismatch is counted, whichever was given first."""
    result = composition.verification_guard().verify(requester(tracker), order_number, email)
    if result.order is not None:
        composition.handoff_service().link_customer(tracker.sender_id, normalise_email(email) or email)
    return result


def tell_locked(dispatcher: CollectingDispatcher, locked: Lockout) -> list[EventType]:
    """Say plainly why no order is shown, when to retry, and offer a person instead."""
    dispatcher.utter_message(response="utter_verification_locked", minutes=locked.retry_after_minutes)
    return [
        SlotSet("order_number", None),
        SlotSet("email", None),
        SlotSet("handoff_reason", "verification_failed"),
        SlotSet("offered_human", True),
    ]


class VerifiedOrderForm(FormValidationAction, ABC):
    """Validates order_number and email, then checks them together, once per turn, against the store."""

    @abstractmethod
    def name(self) -> str: ...

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # A lockout ends the form; the submit action says why and offers a person.
        return [] if lockout(tracker) else domain_slots

    # A flow that starts after a verification reuses the order and its email (carry_over.py).
    def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("order_number"):
            return {}
        order = known_order(tracker)
        return {"order_number": order} if order else {}

    def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("email") or tracker.get_slot("requested_slot") not in (None, "order_number"):
            return {}
        email = known_email(tracker, tracker.get_slot("order_number"))
        return {"email": email} if email else {}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        number = extract_order_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
            return {"order_number": None}
        return {"order_number": number}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"email": checked_email(value, dispatcher)}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
        if not ({"order_number", "email"} & changed) or not number or not email:
            return events
        try:
            result = verify(tracker, number, email)
        except StoreUnavailable as error:
            return [*events, *unavailable(dispatcher, error)]
        if result.order is not None:
            # verified_email lets later flows reuse the identity (actions/carry_over.py).
            return [*events, SlotSet("verified_order", result.order.number), SlotSet("verified_email", email)]
        if result.lockout is not None:
            return events  # slots kept: required_slots sees the lockout and ends the form
        dispatcher.utter_message(response="utter_verification_failed")
        return [*events, SlotSet("email", None), SlotSet("order_number", None)]
