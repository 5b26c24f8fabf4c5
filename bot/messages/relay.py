"""Delivers stored customer messages to Rasa, exactly once and in order, and stores the replies.

The gateway delivers a new message right away (the customer waits for the
answer); when Rasa is down the message stays pending and a background loop
delivers it once Rasa is back, pushing the answer to the widget. Claims are
atomic in the database, so several gateways never send the same message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.messages.log import MessageLog
from bot.messages.payloads import text_for_bot
from bot.metrics import MESSAGE_LATENCY
from bot.rasa.client import RasaClient, RasaTimedOut, RasaUnavailable, bot_replies

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self,
        messages: MessageLog,
        rasa: RasaClient,
        *,
        node: str,
        stale_after: float = 60.0,
        on_mode_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.messages = messages
        self.rasa = rasa
        self.node = node
        self.stale_after = stale_after
        self.on_mode_change = on_mode_change

    def deliver(self, conversation_id: str) -> list[dict[str, Any]]:
        """Deliver every pending message of the conversation; returns the stored replies.

        Raises RasaUnavailable when Rasa can't be reached (the message stays pending).
        """
        replies: list[dict[str, Any]] = []
        while True:
            claimed = self.messages.claim_next(conversation_id, self.node, self.stale_after)
            if claimed is None:
                return replies
            mode = claimed["mode"]
            if mode != "bot":
                self.messages.skip_delivery(claimed["id"])
                continue
            try:
                if claimed["rasa_paused"]:  # a handoff resolved while Rasa was down
                    self.rasa.resume(conversation_id)
                    self.messages.mark_rasa_resumed(conversation_id)
                text = text_for_bot(claimed["text"], command=bool(claimed["meta"].get("command")))
                with MESSAGE_LATENCY.labels("rasa").time():
                    answer = self._send(conversation_id, claimed, text)
            except RasaTimedOut:
                # It may still be processed: the claim stays, and once it is stale the next
                # attempt asks the tracker first (see _send).
                self.messages.publish_status(conversation_id, "pending")
                raise
            except RasaUnavailable:
                self.messages.release_delivery(claimed["id"])
                self.messages.publish_status(conversation_id, "pending")
                raise
            stored, new_mode = self.messages.answer(conversation_id, claimed["id"], bot_replies(answer))
            replies.extend(stored)
            if new_mode != mode and self.on_mode_change is not None:
                self.on_mode_change(conversation_id, new_mode)

    def _send(self, conversation_id: str, claimed: dict[str, Any], text: str) -> list[dict]:
        """Send once; a message sent before without an answer is looked up in the tracker first."""
        if claimed["meta"].get("attempted"):
            recovered = self.rasa.replies_to_last_message(conversation_id, text)
            if recovered is not None:
                log.warning("rasa had answered a timed-out message; replies taken from the tracker")
                return recovered
        self.messages.mark_attempted(claimed["id"])
        return self.rasa.send(conversation_id, text, metadata=_rasa_metadata(claimed["meta"]))

    def deliver_waiting(self) -> int:
        """One sweep over conversations with undelivered messages; returns how many were delivered."""
        delivered = 0
        for conversation_id in self.messages.conversations_waiting(self.stale_after):
            try:
                self.deliver(conversation_id)
                delivered += 1
                self.messages.publish_status(conversation_id, "delivered")
            except RasaUnavailable:
                return delivered  # still down: try again on the next sweep
            except Exception:
                log.exception("delivery failed for a conversation")
        return delivered


def _rasa_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    return {"client_ip": meta["client_ip"]} if meta.get("client_ip") else {}
