"""The seam every channel implements: what comes in, what goes out, how a delivery fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.messages.models import Channel


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message (stored and checked by bot.attachments when it lands)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    """One message a customer sent through a channel.

    ``thread`` is where replies go and which conversation continues (a Telegram chat id, an email
    thread key); ``sender`` who wrote it (a Telegram user id, an email address); ``external_id``
    the channel's own id of the message, so a resent one is stored once (update_id, Message-ID).
    ``payload`` is set when the customer pressed one of the bot's buttons (its payload, verified
    against the buttons the bot offered).
    """

    channel: Channel
    thread: str
    sender: str
    external_id: str
    text: str
    payload: str | None = None
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()
    command: bool = False  # a command of the channel itself (Telegram's /start), sent to Rasa as one


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class OutboundMessage:
    """A stored message on its way out: the channel renders text and buttons its own way."""

    message_id: int
    sender: str  # bot | agent | system
    text: str
    buttons: tuple[Button, ...] = ()
    agent_name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """The channel did not take the message. ``permanent``: retrying cannot help (bot blocked)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.retry_after = reason, permanent, retry_after


class ChannelAdapter(Protocol):
    """What the outbound side needs of a channel; inbound is the channel's own (webhook, polling)."""

    channel: Channel

    def deliver(self, thread: str, message: OutboundMessage) -> None:
        """Send one message to ``thread``; raises DeliveryError."""
        ...
