"""Returns: verify the order, check eligibility, collect items and reason, create an RMA."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.carry_over import flow_is_starting
from actions.context import language
from actions.interruptions import ResumableForm, ask_to_continue, should_ask_to_continue
from actions.items import match_items as match_in
from actions.locale import format_date
from actions.orders import item_list
from actions.verification import VerifiedOrderForm, lockout, tell_locked
from bot import composition
from bot.shop.policy import Eligibility, returnable
from bot.shop.security import redact
from bot.shop.store import OrderView

RETURN_SLOTS = ("order_number", "email", "return_items", "return_reason")


def verified_order(tracker: Tracker) -> OrderView | None:
    """The order the form verified, checked against the store again.

    Slots set any other way (e.g. by entities) never count: the number must be the
    verified one. A form that ends at once (an ineligible order carried over from an
    earlier flow) has not set order_number/email: the verified pair stands in.
    """
    number = tracker.get_slot("order_number") or tracker.get_slot("verified_order")
    email = tracker.get_slot("email") or tracker.get_slot("verified_email")
    if not number or not email or tracker.get_slot("verified_order") != number:
        return None
    return composition.shop_store().find_verified_order(number, email)


def match_items(text: str, order: OrderView, lang: str) -> list[str]:
    """SKUs the customer named; "the second one" counts in the order the bot lists them."""
    offered, excluded = returnable(list(order.items))
    return match_in(text, offered + excluded, lang)


class ValidateReturnForm(ResumableForm, VerifiedOrderForm):
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

    def extract_return_items(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """ "chcem vrátiť kanvicu" already names the item: don't ask for it again."""
        if tracker.get_slot("return_items") or not flow_is_starting(tracker):
            return {}
        number, email = tracker.get_slot("order_number"), tracker.get_slot("email")
        order = composition.shop_store().find_verified_order(number or "", email or "")
        text = (tracker.latest_message or {}).get("text") or ""
        if order is None or not match_items(text, order, language(tracker)):
            return {}
        return {"return_items": text}

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
            dispatcher.utter_message(
                response="utter_return_item_excluded", items=item_list(tuple(excluded), language(tracker))
            )
        if not ok:
            if not excluded:
                returnable_now, _ = returnable(list(order.items))
                dispatcher.utter_message(
                    response="utter_return_items_unknown",
                    items=item_list(tuple(returnable_now), language(tracker)),
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
        if should_ask_to_continue(tracker):
            ask_to_continue(dispatcher, tracker, "return_items")
            return []
        ok, _ = returnable(list(order.items))
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_ask_return_items",
            items=item_list(tuple(ok), lang),
            buttons=[{"title": i.name_in(lang), "payload": i.name_in(lang)} for i in ok],
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
            dispatcher.utter_message(
                response="utter_return_item_excluded", items=item_list(order.items, language(tracker))
            )
        else:
            skus = (tracker.get_slot("return_items") or "").split(",")
            email = tracker.get_slot("email") or tracker.get_slot("verified_email")
            outcome = store.create_return(order.number, email, skus, tracker.get_slot("return_reason") or "")
            response = "utter_return_created" if outcome.created else "utter_return_already_exists"
            dispatcher.utter_message(response=response, rma=outcome.rma)
        return [*reset, SlotSet("verified_order", order.number)]
