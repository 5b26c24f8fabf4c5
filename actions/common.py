"""Stopping a flow, ratings, and the core fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot import composition

FLOW_SLOTS = ("order_number", "email", "return_items", "return_reason", "cancel_confirmed", "requested_slot")
# What "stop" says, by the form it leaves: each is true, because leaving a form changes nothing.
STOPPED = {"cancel_order_form": "utter_cancel_kept", None: "utter_nothing_to_stop"}


class ActionStopFlow(Action):
    """The customer changed their mind: leave any form and forget what it collected.

    "Stop", "never mind" or "forget it" never cancel an order; the reply says only what
    happened (the form was left, nothing changed), never "I've cancelled it".
    """

    def name(self) -> str:
        return "action_stop_flow"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        dispatcher.utter_message(response=STOPPED.get(form, "utter_stopped"))
        return [
            ActiveLoop(None),
            *(SlotSet(s, None) for s in FLOW_SLOTS),
            SlotSet("verification_failures", 0),
        ]


# Small talk inside a form, and what answers it.
SMALL_TALK_REPLIES = {"greet": "utter_greet", "thanks": "utter_you_are_welcome", "goodbye": "utter_goodbye"}
FREE_TEXT_SLOTS = {"return_reason"}  # a free-text answer may look like small talk ("nepáči sa mi to")


class ActionInFormSmallTalk(Action):
    """Answers "thanks"/"hi"/"bye" in a form, unless the form asked for a free-text answer.

    Asked why an item goes back, a short reply the NLU took for small talk is the
    reason: the slot mapping (domain.yml) fills it, and saying goodbye would be wrong.
    """

    def name(self) -> str:
        return "action_in_form_small_talk"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") in FREE_TEXT_SLOTS:
            return []
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        dispatcher.utter_message(response=SMALL_TALK_REPLIES.get(intent, "utter_anything_else"))
        return []


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
