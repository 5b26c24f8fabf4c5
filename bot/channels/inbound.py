"""Inbound: a channel's message is stored in the message log first (once), then relayed to Rasa once.

The same steps as the widget's /api/chat (bot.web.chat): a button payload counts as a command only
when the bot offered it and still waits on it; a person who has the conversation gets the message
instead of the bot; the email address a timed-out ticket asked for is taken as the contact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.base import InboundMessage
from bot.handoff.service import HandoffService
from bot.handoff.tickets import take_contact_email
from bot.messages.log import MessageLog
from bot.messages.relay import Relay
from bot.rasa.client import RasaUnavailable
from bot.shop.security import extract_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    conversation_id: str
    message_id: int | None  # None: a resent message, stored before
    for_bot: bool  # waiting for the relay (False: a person has the conversation, or a duplicate)

    @property
    def duplicate(self) -> bool:
        return self.message_id is None


class ChannelInbound:
    def __init__(
        self, messages: MessageLog, handoff: HandoffService, relay: Relay, idle_after: timedelta
    ) -> None:
        self.messages = messages
        self.handoff = handoff
        self.relay = relay
        self.idle_after = idle_after

    def accept(self, inbound: InboundMessage) -> Accepted:
        """Store the message (a resent one is recognised by its receipt); relay it with ``process``."""
        log_ = self.messages
        conversation_id = log_.channel_conversation(
            inbound.channel, inbound.thread, self.idle_after, inbound.language
        )
        receipt = (inbound.channel, inbound.external_id)
        text = inbound.payload if inbound.payload is not None else inbound.text.strip()
        if inbound.payload is None and extract_email(text) and self.handoff.awaiting_contact(conversation_id):
            message, created = log_.record(conversation_id, "customer", text, receipt=receipt)
            if created:
                take_contact_email(self.handoff, log_, conversation_id, text, log_.language(conversation_id))
            return Accepted(conversation_id, message.get("id") if created else None, False)
        # The thread stands for the client address in the bot's per-client limits (rasa metadata).
        meta: dict = {"client_ip": f"{inbound.channel}:{inbound.thread}"}
        if inbound.command:
            meta["command"] = True
        elif inbound.payload is not None:
            if inbound.payload in log_.open_payloads(conversation_id):
                meta["command"] = True
            else:  # an old button: its payload is read as words, like any text (bot.messages.payloads)
                log.info("%s: a button no longer open was pressed; taken as text", inbound.channel)
        message, created = log_.record(
            conversation_id,
            "customer",
            text,
            meta=meta,
            for_bot=True,
            receipt=receipt,
            language=inbound.language,
        )
        if not created:
            return Accepted(conversation_id, None, False)
        if message["relay"] == "none":  # a person has the conversation
            self.handoff.customer_wrote(conversation_id)
            return Accepted(conversation_id, message["id"], False)
        return Accepted(conversation_id, message["id"], True)

    def process(self, conversation_id: str) -> None:
        """Relay what waits (the replies are stored with their outbound delivery by the log)."""
        try:
            self.relay.deliver(conversation_id)
        except RasaUnavailable as exc:  # kept pending: the gateway's relay sweep delivers it later
            log.warning("rasa unavailable (%s); channel message kept for delivery", exc)
