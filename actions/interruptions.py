"""Forms that notice when the customer has moved on.

After "thanks", "bye" or two unrelated messages in a row, a form asks whether to go
on ("Shall we carry on? I still need your order number.") instead of repeating its
question; "yes" resumes it, "stop" leaves it. The questions themselves stay in
domain.yml (one response per slot, four languages keyed by the ``language`` slot).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language
from actions.locale import labels

FORM_SLOTS = {"order_number", "email", "return_items", "return_reason", "cancel_confirmed"}
# Messages that belong to the form: answers, and restating what the customer wants.
RELATED_INTENTS = {"inform", "order_status", "return_request", "cancel_order", "affirm", "rate"}
CLOSING_INTENTS = {"thanks", "goodbye"}
RESUMED = "form_resumed"
MAX_INTERRUPTIONS = 2


def intent_of(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def interruptions(tracker: Tracker) -> tuple[int, bool]:
    """(unrelated customer messages since the form last moved on, whether the latest was a closing)."""
    count, closing, latest = 0, False, True
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "active_loop" and event.get("name"):
            break  # the form started here
        if kind == "slot" and event.get("name") == RESUMED:
            break
        if kind == "slot" and event.get("name") in FORM_SLOTS and event.get("value") not in (None, ""):
            break  # the form made progress
        if kind == "user":
            intent = intent_of(event)
            if intent not in RELATED_INTENTS:
                count += 1
                closing = closing or (latest and intent in CLOSING_INTENTS)
            latest = False
    return count, closing


def should_ask_to_continue(tracker: Tracker) -> bool:
    count, closing = interruptions(tracker)
    return closing or count >= MAX_INTERRUPTIONS


def ask_to_continue(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> None:
    lang = language(tracker)
    needed = labels()["form_needs"].get(slot, {})
    dispatcher.utter_message(response="utter_ask_continue_form", needed=needed.get(lang) or needed.get("en"))


class ResumableForm(FormValidationAction, ABC):
    """A "yes" to "Shall we carry on?" resumes the form (and is not an answer it rejects)."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if (tracker.latest_message or {}).get("intent", {}).get("name") == "affirm":
            events.append(SlotSet(RESUMED, True))
        return events


class AskSlot(Action, ABC):
    """The form's question for one slot, or "Shall we carry on?" when the customer moved on."""

    slot = ""
    response = ""

    @abstractmethod
    def name(self) -> str: ...

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if should_ask_to_continue(tracker):
            ask_to_continue(dispatcher, tracker, self.slot)
        else:
            self.ask(dispatcher, tracker)
        return []

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        dispatcher.utter_message(response=self.response)


class ActionAskOrderNumber(AskSlot):
    slot, response = "order_number", "utter_ask_order_number"

    def name(self) -> str:
        return "action_ask_order_number"


class ActionAskEmail(AskSlot):
    slot, response = "email", "utter_ask_email"

    def name(self) -> str:
        return "action_ask_email"


class ActionAskReturnReason(AskSlot):
    slot, response = "return_reason", "utter_ask_return_reason"

    def name(self) -> str:
        return "action_ask_return_reason"
