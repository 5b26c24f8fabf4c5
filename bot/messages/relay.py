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
from bot.web.rasa_client import RasaClient, RasaUnavailable, bot_replies

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
            mode = self.messages.mode(conversation_id)
            if mode != "bot":
                self.messages.skip_delivery(claimed["id"])
                continue
            try:
                self._resume_if_needed(conversation_id)
                answer = self.rasa.send(
                    conversation_id, claimed["text"], metadata=_rasa_metadata(claimed["meta"])
                )
            except RasaUnavailable:
                self.messages.release_delivery(claimed["id"])
                self.messages.publish_status(conversation_id, "pending")
                raise
            for reply in bot_replies(answer):
                stored, _ = self.messages.record(
                    conversation_id, "bot", reply["text"], buttons=reply["buttons"]
                )
                replies.append(stored)
            self.messages.finish_delivery(claimed["id"])
            new_mode = self.messages.mode(conversation_id)
            if new_mode != mode and self.on_mode_change is not None:
                self.on_mode_change(conversation_id, new_mode)

    def _resume_if_needed(self, conversation_id: str) -> None:
        """A handoff resolved while Rasa was down left the tracker paused."""
        if self.messages.needs_rasa_resume(conversation_id):
            self.rasa.resume(conversation_id)
            self.messages.mark_rasa_resumed(conversation_id)

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
