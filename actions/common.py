"""Stopping a flow, ratings, and the core fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot import composition

FLOW_SLOTS = ("order_number", "email", "return_items", "return_reason", "requested_slot")


class ActionStopFlow(Action):
    """The customer changed their mind: leave any form and forget what it collected."""

    def name(self) -> str:
        return "action_stop_flow"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_stopped")
        return [
            ActiveLoop(None),
            *(SlotSet(s, None) for s in FLOW_SLOTS),
            SlotSet("verification_failures", 0),
        ]


class ActionAskRating(Action):
    def name(self) -> str:
        return "action_ask_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_rating")
        return [SlotSet("rating", None)]


class ActionStoreRating(Action):
    def name(self) -> str:
        return "action_store_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rating = tracker.get_slot("rating")
        try:
            value = int(float(rating))
        except (TypeError, ValueError):
            value = 0
        if 1 <= value <= 5:
            composition.handoff_service().record_csat(tracker.sender_id, value)
            dispatcher.utter_message(response="utter_thanks_for_rating")
        else:
            dispatcher.utter_message(response="utter_ask_rating")
        return [SlotSet("rating", None)]


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_rephrase")
        # Like Rasa's own fallback: forget the turn so the policies don't loop on it.
        return [UserUtteranceReverted()]
