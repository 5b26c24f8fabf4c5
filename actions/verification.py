"""Order verification shared by the order-status and return forms.

An order is shown only when its number and the email on it both match; a
mismatch never says which of the two was wrong, or whether the order exists.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.carry_over import known_email, known_order
from bot import composition
from bot.settings import get_settings
from bot.shop.security import extract_order_number, normalise_email


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


class VerifiedOrderForm(FormValidationAction, ABC):
    """Validates order_number and email, then checks them together against the store."""

    @abstractmethod
    def name(self) -> str: ...

    @staticmethod
    def failures(tracker: Tracker) -> int:
        return int(tracker.get_slot("verification_failures") or 0)

    @staticmethod
    def gave_up(tracker: Tracker) -> bool:
        return VerifiedOrderForm.failures(tracker) >= get_settings().handoff.max_verification_failures

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # Giving up ends the form; the submit action then offers a person.
        return [] if self.gave_up(tracker) else domain_slots

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
        email = checked_email(value, dispatcher)
        if email is None:
            return {"email": None}
        number = tracker.get_slot("order_number")
        if not number:
            return {"email": email}
        order = composition.shop_store().find_verified_order(number, email)
        if order is not None:
            composition.handoff_service().link_customer(tracker.sender_id, email)
            return {
                "email": email,
                "verified_order": order.number,
                "verified_email": email,
                "verification_failures": 0,
            }
        failures = self.failures(tracker) + 1
        if failures < get_settings().handoff.max_verification_failures:
            dispatcher.utter_message(response="utter_verification_failed")
        return {"email": None, "order_number": None, "verification_failures": failures}
