"""Order cancellation: verify as for order status, confirm, then cancel in the store.

A processing order is cancelled only after the customer says yes to "Shall I cancel
order X?"; a shipped or delivered one is not, and the customer hears what is possible
instead (refuse the parcel, return it). Nothing here says an order was cancelled
unless the store returned ``CancelStatus.CANCELLED``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language
from actions.interruptions import AskSlot, ResumableForm
from actions.locale import format_date
from actions.orders import item_list
from actions.verification import VerifiedOrderForm, lockout, tell_locked
from bot import composition
from bot.shop.security import redact
from bot.shop.store import CANCELLABLE_STATUS, CancelStatus, OrderView

CANCEL_SLOTS = ("order_number", "email", "cancel_confirmed")


def order_to_cancel(tracker: Tracker) -> OrderView | None:
    """The order the form verified (checked against the store again), as for returns."""
    number = tracker.get_slot("order_number") or tracker.get_slot("verified_order")
    email = tracker.get_slot("email") or tracker.get_slot("verified_email")
    if not number or not email or tracker.get_slot("verified_order") != number:
        return None
    return composition.shop_store().find_verified_order(number, email)


def cancel_reason(tracker: Tracker) -> str:
    """The customer's own words that asked for the cancellation, redacted, for the store's record."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == "cancel_order":
            return redact(event.get("text") or "")[:1000]
    return ""


class ValidateCancelOrderForm(ResumableForm, VerifiedOrderForm):
    def name(self) -> str:
        return "validate_cancel_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        if lockout(tracker):
            return []
        if tracker.get_slot("verified_order") and tracker.get_slot("email"):
            order = order_to_cancel(tracker)
            if order is not None and order.status != CANCELLABLE_STATUS:
                return []  # nothing to confirm: the submit action says what is possible
        return domain_slots


class ActionAskCancelConfirmed(AskSlot):
    """ "Shall I cancel order X (items)?" with yes/no buttons."""

    slot, response = "cancel_confirmed", "utter_ask_cancel_confirmed"

    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        order = order_to_cancel(tracker)
        if order is None:
            return
        dispatcher.utter_message(
            response=self.response, order_number=order.number, items=item_list(order.items, language(tracker))
        )


class ActionCancelOrder(Action):
    def name(self) -> str:
        return "action_cancel_order"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in CANCEL_SLOTS]
        locked = lockout(tracker)
        if locked is not None:
            return [*tell_locked(dispatcher, locked), *reset]
        order = order_to_cancel(tracker)
        if order is None:
            dispatcher.utter_message(response="utter_verification_failed")
            return reset
        email = tracker.get_slot("email") or tracker.get_slot("verified_email")
        if order.status == CANCELLABLE_STATUS and not tracker.get_slot("cancel_confirmed"):
            dispatcher.utter_message(response="utter_cancel_kept")  # never cancelled without a yes
            return [*reset, SlotSet("verified_order", order.number)]
        outcome = composition.shop_store().cancel_order(order.number, email, cancel_reason(tracker))
        after = outcome.order
        if outcome.status is CancelStatus.CANCELLED:
            dispatcher.utter_message(response="utter_order_cancelled", order_number=after.number)
        elif outcome.status is CancelStatus.ALREADY_CANCELLED:
            dispatcher.utter_message(response="utter_order_already_cancelled", order_number=after.number)
        elif after.status == "delivered":
            dispatcher.utter_message(
                response="utter_cancel_too_late_delivered",
                order_number=after.number,
                delivered_on=format_date(after.delivered_at, language(tracker)),
            )
        else:
            dispatcher.utter_message(
                response="utter_cancel_too_late_shipped", order_number=after.number, carrier=after.carrier or "-"
            )
        return [*reset, SlotSet("verified_order", after.number)]
