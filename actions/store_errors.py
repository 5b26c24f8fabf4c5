"""When the shop's order system does not answer: say so plainly and offer a person.

Remote adapters raise ``StoreUnavailable`` after their retries; an action wrapped with
``tells_store_unavailable`` answers ``utter_order_system_unavailable`` instead of falling
silent, and forgets the half-collected order number and email.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.shop.store import StoreUnavailable

log = logging.getLogger(__name__)
FORGET = ("order_number", "email")


def unavailable(dispatcher: CollectingDispatcher, error: StoreUnavailable) -> list[EventType]:
    log.warning("order system unavailable: %s", error)
    dispatcher.utter_message(response="utter_order_system_unavailable")
    return [*(SlotSet(slot, None) for slot in FORGET), SlotSet("offered_human", True)]


def tells_store_unavailable(run: Callable[..., list[EventType]]) -> Callable[..., list[EventType]]:
    @functools.wraps(run)
    def wrapped(
        self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            return run(self, dispatcher, tracker, domain)
        except StoreUnavailable as error:
            return unavailable(dispatcher, error)

    return wrapped
