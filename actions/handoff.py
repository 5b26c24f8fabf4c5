"""Handing the conversation to a person, with its whole context."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import handoff_context, language
from actions.verification import EmailForm, client_address
from bot import composition

INTENT_REASONS = {"request_human": "customer_request", "complaint": "angry_customer"}


def handoff_reason(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return tracker.get_slot("handoff_reason") or INTENT_REASONS.get(intent, "customer_request")


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reason = handoff_reason(tracker)
        if reason == "angry_customer":
            dispatcher.utter_message(response="utter_angry_apology")
        events: list[EventType] = [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("handoff_reason", None),
            SlotSet("offered_human", False),
        ]
        service = composition.handoff_service()
        already_open = service.active_handoff(tracker.sender_id) is not None
        if not already_open and not composition.handoff_limiter().allow(tracker.sender_id, client_address(tracker)):
            dispatcher.utter_message(response="utter_handoff_rate_limited")
            return events
        start = service.start(tracker.sender_id, reason, language(tracker), handoff_context(tracker, reason))
        if start.online:
            dispatcher.utter_message(
                response="utter_handoff", position=start.position, wait_minutes=start.wait_minutes
            )
            # The gateway routes further messages to the agent; pausing is the backstop.
            return [*events, ConversationPaused()]
        if not composition.mail_delivered():  # no mail server: an email reply cannot be promised
            dispatcher.utter_message(response="utter_handoff_offline_no_mail")
            return events
        verified = tracker.get_slot("verified_email")
        if verified:  # the customer proved this address in this session: don't ask again
            composition.handoff_service().leave_contact(tracker.sender_id, verified)
            dispatcher.utter_message(response="utter_handoff_offline_known_email", email=verified)
            return events
        dispatcher.utter_message(response="utter_handoff_offline")
        return [*events, SlotSet("email", None), FollowupAction("handoff_contact_form")]


class ValidateHandoffContactForm(EmailForm):
    def name(self) -> str:
        return "validate_handoff_contact_form"


class ActionLeaveContact(Action):
    def name(self) -> str:
        return "action_leave_contact"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        email = tracker.get_slot("email")
        if email:
            composition.handoff_service().leave_contact(tracker.sender_id, email)
            dispatcher.utter_message(response="utter_contact_saved", email=email)
        return [SlotSet("email", None)]
