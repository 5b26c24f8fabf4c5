"""Returns: verify the order, check eligibility, collect items and reason, create an RMA."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language
from actions.interruptions import ResumableForm, ask_to_continue, should_ask_to_continue
from actions.items import has_reason, refers_to_it
from actions.items import match_items as match_in
from actions.locale import format_date, labels
from actions.orders import item_list
from actions.store_errors import tells_store_unavailable
from actions.verification import VerifiedOrderForm, lockout, tell_locked
from bot import composition
from bot.shop.policy import Eligibility, returnable
from bot.shop.security import redact
from bot.shop.store import OrderView

RETURN_SLOTS = ("order_number", "email", "return_items", "return_reason")
NOT_RETURNABLE_NOTE = "utter_return_not_returnable_items"


def said_this_turn(tracker: Tracker, response: str) -> bool:
    """Whether the bot already sent ``response`` since the customer's last message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False


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
    """SKUs the customer named; "the second one" counts in the order the bot lists them.

    On an order with one returnable item, "it" or a bare reason ("doesn't fit") is that item.
    """
    offered, excluded = returnable(list(order.items), composition.return_policy())
    named = match_in(text, offered + excluded, lang)
    if not named and len(offered) == 1 and (refers_to_it(text, lang) or has_reason(text, lang)):
        return [offered[0].sku]
    return named


def said_in_this_return(tracker: Tracker) -> list[str]:
    """The customer's messages, newest first, back to the end of the last return in this session."""
    latest = (tracker.latest_message or {}).get("text")
    texts = [str(latest)] if latest else []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started" or (kind == "action" and event.get("name") == "action_submit_return"):
            break
        if kind == "user" and event.get("text"):
            texts.append(str(event["text"]))
    return list(dict.fromkeys(texts))  # the latest message is also the last user event


def excluded_with_reasons(items: list, lang: str) -> str:
    """ "In-ear earbuds Sonix Buds (a hygiene item, once unsealed)", joined."""
    reasons = labels()["excluded_reasons"]

    def why(category: str) -> str:
        texts = reasons.get(category, {})
        return texts.get(lang) or texts.get("en") or ""

    return ", ".join(f"{i.name_in(lang)} ({why(i.category)})" if why(i.category) else i.name_in(lang) for i in items)


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

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Right after the order verifies: items and reason said earlier are not asked for."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        slots = {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}
        number, email = slots.get("verified_order"), slots.get("verified_email")
        if not number or not email:
            return events
        order = composition.shop_store().find_verified_order(number, email)
        if order is None:
            return events
        offered, excluded = returnable(list(order.items), composition.return_policy())
        lang = language(tracker)
        if excluded and composition.shop_store().eligibility(order, date.today()) is Eligibility.ELIGIBLE:
            # Named with the reason as soon as the order is verified, not silently left out.
            dispatcher.utter_message(
                response=NOT_RETURNABLE_NOTE, items=excluded_with_reasons(excluded, lang)
            )
        said = said_in_this_return(tracker)
        if not tracker.get_slot("return_items"):
            for text in said:
                skus = match_in(text, offered + excluded, lang)
                chosen = [i.sku for i in offered if i.sku in skus]
                if chosen:
                    events.append(SlotSet("return_items", ",".join(chosen)))
                    break
        if not tracker.get_slot("return_reason"):
            reason = next((text for text in said if has_reason(text, lang)), None)
            if reason:
                events.append(SlotSet("return_reason", redact(reason).strip()[:1000]))
        return events

    def extract_return_items(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """An item named anywhere earlier ("chcem vrátiť kanvicu") is not asked for again."""
        if tracker.get_slot("return_items") or tracker.get_slot("requested_slot") == "return_items":
            return {}
        order = verified_order(tracker)
        if order is None:
            return {}
        offered, excluded = returnable(list(order.items), composition.return_policy())
        lang = language(tracker)
        for text in said_in_this_return(tracker):
            if match_in(text, offered + excluded, lang):  # named, not only "it"
                return {"return_items": text}
        return {}

    def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """A reason said before it was asked for ("I want to return the kettle, it leaks")."""
        if tracker.get_slot("return_reason") or tracker.get_slot("requested_slot") == "return_reason":
            return {}
        if verified_order(tracker) is None:
            return {}
        lang = language(tracker)
        for text in said_in_this_return(tracker):
            if has_reason(text, lang):
                return {"return_reason": text}
        return {}

    def validate_return_items(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        order = verified_order(tracker)
        if order is None:
            return {"return_items": None}
        lang = language(tracker)
        skus = match_items(str(value or ""), order, lang)
        items = [i for i in order.items if i.sku in skus]
        ok, excluded = returnable(items, composition.return_policy())
        if excluded:
            dispatcher.utter_message(response="utter_return_item_excluded", items=excluded_with_reasons(excluded, lang))
        if not ok:
            if not excluded:
                returnable_now, _ = returnable(list(order.items), composition.return_policy())
                dispatcher.utter_message(
                    response="utter_return_items_unknown",
                    items=item_list(tuple(returnable_now), language(tracker)),
                )
            return {"return_items": None}
        result: dict[str, Any] = {"return_items": ",".join(i.sku for i in ok)}
        said = str(value or "")
        if not tracker.get_slot("return_reason") and has_reason(said, lang):
            result["return_reason"] = redact(said).strip()[:1000]  # "it doesn't fit": item and reason
        return result

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
        ok, excluded = returnable(list(order.items), composition.return_policy())
        lang = language(tracker)
        if excluded and not said_this_turn(tracker, NOT_RETURNABLE_NOTE):
            dispatcher.utter_message(response=NOT_RETURNABLE_NOTE, items=excluded_with_reasons(excluded, lang))
        dispatcher.utter_message(
            response="utter_ask_return_items",
            items=item_list(tuple(ok), lang),
            buttons=[{"title": i.name_in(lang), "payload": i.name_in(lang)} for i in ok],
        )
        return []


class ActionSubmitReturn(Action):
    def name(self) -> str:
        return "action_submit_return"

    @tells_store_unavailable
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
                delivered_on=format_date(order.delivered_at, language(tracker)),
            )
        elif verdict is Eligibility.EXCLUDED:
            dispatcher.utter_message(
                response="utter_return_item_excluded",
                items=excluded_with_reasons(list(order.items), language(tracker)),
            )
        else:
            skus = (tracker.get_slot("return_items") or "").split(",")
            email = tracker.get_slot("email") or tracker.get_slot("verified_email")
            outcome = store.create_return(order.number, email, skus, tracker.get_slot("return_reason") or "")
            if not outcome.created:
                response = "utter_return_already_exists"
            else:  # the label is promised only when a mail with it is really on its way
                response = "utter_return_created" if outcome.label_mailed else "utter_return_created_no_label"
            dispatcher.utter_message(response=response, rma=outcome.rma)
            if outcome.label_mailed:  # send it now; the worker retries if the mail server is down
                composition.send_mail_now()
        return [*reset, SlotSet("verified_order", order.number)]
