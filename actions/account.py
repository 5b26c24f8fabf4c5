"""Password reset: the same answer whether or not the account exists."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.store_errors import tells_store_unavailable
from actions.verification import EmailForm
from bot import composition
from bot.shop.store import ResetOutcome


class ValidatePasswordResetForm(EmailForm):
    def name(self) -> str:
        return "validate_password_reset_form"


class ActionRequestPasswordReset(Action):
    def name(self) -> str:
        return "action_request_password_reset"

    @tells_store_unavailable
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        email = tracker.get_slot("email") or ""
        store = composition.shop_store()
        outcome = store.request_password_reset(email, tracker.sender_id)
        # A link is promised only when a mail will really be sent (see ResetOutcome).
        if outcome is ResetOutcome.RATE_LIMITED:
            dispatcher.utter_message(response="utter_password_reset_rate_limited")
        elif outcome is ResetOutcome.NOT_SENT:
            dispatcher.utter_message(response="utter_password_reset_no_mail")
        elif outcome is ResetOutcome.SELF_SERVICE:
            dispatcher.utter_message(response="utter_password_reset_self_service", reset_page=store.password_reset_page)
        else:
            dispatcher.utter_message(response="utter_password_reset_sent")
            composition.send_mail_now()
        # Forget the address: a reset request is not a verified identity.
        return [SlotSet("email", None)]
