"""Order status: the form collects number + email, this action answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language
from actions.interruptions import ResumableForm
from actions.locale import format_date, status_label
from actions.store_errors import tells_store_unavailable
from actions.verification import VerifiedOrderForm, lockout, tell_locked, verify

FORM_SLOTS = ("order_number", "email")


def item_list(items: tuple, lang: str = "en") -> str:
    return ", ".join(i.name_in(lang) + (f" ×{i.quantity}" if i.quantity > 1 else "") for i in items)


class ValidateOrderStatusForm(ResumableForm, VerifiedOrderForm):
    def name(self) -> str:
        return "validate_order_status_form"


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    @tells_store_unavailable
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locked = lockout(tracker)
        if locked is not None:
            return tell_locked(dispatcher, locked)
        # Checked again (and counted if wrong): slots may have been set outside the form.
        result = verify(tracker, tracker.get_slot("order_number") or "", tracker.get_slot("email") or "")
        order = result.order
        if result.lockout is not None:
            return tell_locked(dispatcher, result.lockout)
        if order is None:
            dispatcher.utter_message(response="utter_verification_failed")
            return [SlotSet("order_number", None), SlotSet("email", None)]
        lang = language(tracker)
        details = {
            "order_number": order.number,
            "status": status_label(order.status, lang),
            "items": item_list(order.items, lang),
            "ordered_on": format_date(order.ordered_at, lang),
        }
        if order.tracking_number:
            dispatcher.utter_message(
                response="utter_order_status",
                carrier=order.carrier,
                tracking_number=order.tracking_number,
                delivery_date=format_date(order.delivered_at or order.estimated_delivery, lang),
                **details,
            )
        else:
            dispatcher.utter_message(response="utter_order_status_no_tracking", **details)
        return [SlotSet("verified_order", order.number), SlotSet("order_number", None)]
