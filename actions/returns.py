"""Returns: verify the order, check eligibility, collect items and reason, create an RMA."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language
from actions.locale import all_items_words, format_date
from actions.orders import item_list
from actions.verification import VerifiedOrderForm, lockout, tell_locked
from bot import composition
from bot.shop.policy import Eligibility, returnable
from bot.shop.security import redact
from bot.shop.store import OrderView

RETURN_SLOTS = ("order_number", "email", "return_items", "return_reason")


def verified_order(tracker: Tracker) -> OrderView | None:
    """The order the form verified; slots set any other way (e.g. by entities) never count."""
    number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
    if not number or not email or tracker.get_slot("verified_order") != number:
        return None
    return composition.shop_store().find_verified_order(number, email)


def match_items(text: str, order: OrderView, lang: str) -> list[str]:
    """SKUs the customer named: by SKU, by a word of the product name, or 'all'."""
    said = text.casefold()
    if any(word in said for word in all_items_words(lang)):
        return [i.sku for i in order.items]
    chosen = []
    for item in order.items:
        words = [w for w in item.name.casefold().replace('"', " ").split() if len(w) >= 3]
        if item.sku.casefold() in said or item.name.casefold() in said or any(w in said for w in words):
            chosen.append(item.sku)
    return chosen


class ValidateReturnForm(VerifiedOrderForm):
    def name(self) -> str:
        return "validate_return_form"

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
            order = verified_order(tracker)
            if (
                order
                and composition.shop_store().eligibility(order, date.today()) is not Eligibility.ELIGIBLE
            ):
                return []  # the submit action explains why
        return domain_slots

    def validate_return_items(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        order = verified_order(tracker)
        if order is None:
            return {"return_items": None}
        skus = match_items(str(value or ""), order, language(tracker))
        items = [i for i in order.items if i.sku in skus]
        ok, excluded = returnable(items)
        if excluded:
            dispatcher.utter_message(response="utter_return_item_excluded", items=item_list(tuple(excluded)))
        if not ok:
            if not excluded:
                returnable_now, _ = returnable(list(order.items))
                dispatcher.utter_message(
                    response="utter_return_items_unknown", items=item_list(tuple(returnable_now))
                )
            return {"return_items": None}
        return {"return_items": ",".join(i.sku for i in ok)}

    def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        reason = redact(str(value or "")).strip()  # it goes into the RMA and the handoff context
        return {"return_reason": reason[:1000] if reason else None}


class ActionAskReturnItems(Action):
    """Lists the returnable items as buttons, so the customer can just click."""

    def name(self) -> str:
        return "action_ask_return_items"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        order = verified_order(tracker)
        if order is None:
            return []
        ok, _ = returnable(list(order.items))
        dispatcher.utter_message(
            response="utter_ask_return_items",
            items=item_list(tuple(ok)),
            buttons=[{"title": i.name, "payload": i.name} for i in ok],
        )
        return []


class ActionSubmitReturn(Action):
    def name(self) -> str:
        return "action_submit_return"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locked = lockout(tracker)
        if locked is not None:
            return [*tell_locked(dispatcher, locked), *(SlotSet(slot, None) for slot in RETURN_SLOTS)]
        order = verified_order(tracker)
        reset = [SlotSet(slot, None) for slot in RETURN_SLOTS]
        if order is None:
            dispatcher.utter_message(response="utter_verification_failed")
            return reset
        store = composition.shop_store()
        verdict = store.eligibility(order, date.today())
        if verdict is Eligibility.NOT_DELIVERED:
            dispatcher.utter_message(response="utter_return_not_delivered", order_number=order.number)
        elif verdict is Eligibility.WINDOW_CLOSED:
            dispatcher.utter_message(
                response="utter_return_window_closed",
                order_number=order.number,
                delivered_on=format_date(order.delivered_at),
            )
        elif verdict is Eligibility.EXCLUDED:
            dispatcher.utter_message(response="utter_return_item_excluded", items=item_list(order.items))
        else:
            skus = (tracker.get_slot("return_items") or "").split(",")
            outcome = store.create_return(
                order.number, tracker.get_slot("email"), skus, tracker.get_slot("return_reason") or ""
            )
            response = "utter_return_created" if outcome.created else "utter_return_already_exists"
            dispatcher.utter_message(response=response, rma=outcome.rma)
        return [*reset, SlotSet("verified_order", order.number)]
