"""Password reset: the same answer whether or not the account exists."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.verification import EmailForm
from bot import composition
from bot.shop.mailer import deliver_outbox
from bot.shop.store import ResetOutcome


class ValidatePasswordResetForm(EmailForm):
    def name(self) -> str:
        return "validate_password_reset_form"


class ActionRequestPasswordReset(Action):
    def name(self) -> str:
        return "action_request_password_reset"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        email = tracker.get_slot("email") or ""
        outcome = composition.shop_store().request_password_reset(email, tracker.sender_id)
        if outcome is ResetOutcome.RATE_LIMITED:
            dispatcher.utter_message(response="utter_password_reset_rate_limited")
        else:
            dispatcher.utter_message(response="utter_password_reset_sent")
            deliver_outbox(composition.database_url(), composition.services().settings.smtp)
        # Forget the address: a reset request is not a verified identity.
        return [SlotSet("email", None)]
