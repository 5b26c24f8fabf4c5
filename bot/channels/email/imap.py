"""Inbound mail: poll an IMAP mailbox (stdlib imaplib) and hand each new mail to ChannelInbound.

A mail is marked ``\\Seen`` only after it is stored (or refused in the log), so a poller killed
mid-way loses nothing; the one read again is recognised by its Message-ID receipt and stored once.
A sender over the per-sender limit (a mail bomb) is refused in the log and left unseen: it is
read again once the sender is under the limit, so nothing legitimate is lost. Refused mails
(auto-replies, bounces, lists, our own address, oversized or malformed) stay in the mailbox.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.attachments.store import AttachmentStore
from bot.attachments.validation import AttachmentRefused
from bot.channels.base import InboundMessage
from bot.channels.email import EmailChannel, thread_of
from bot.channels.email.parse import MAX_MAIL_BYTES, MailRefused, ParsedMail, Refusal, parse_mail
from bot.channels.inbound import Accepted, ChannelInbound
from bot.db import session_scope
from bot.messages.models import Channel, ChatMessage, InboundReceipt
from bot.settings import EmailSettings

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 5  # per mail


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    deferred: int = 0  # over the sender's rate limit; read again later

    def refuse(self, reason: Refusal) -> None:
        self.refused[reason.value] = self.refused.get(reason.value, 0) + 1


def tag(address: str) -> str:
    """A sender in the log without the address (a personal identifier)."""
    return hashlib.sha256(address.encode()).hexdigest()[:10]


def connect(settings: EmailSettings) -> imaplib.IMAP4:
    client: imaplib.IMAP4
    if settings.imap_ssl:
        client = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, timeout=30)
    else:
        client = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=30)
    client.login(settings.imap_user, settings.imap_password)
    return client


class MailPoller:
    def __init__(
        self,
        settings: EmailSettings,
        channel: EmailChannel,
        inbound: ChannelInbound,
        allow_sender: Callable[[str], bool],
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.inbound = inbound
        self.allow_sender = allow_sender
        self.attachments = attachments

    def poll_once(self) -> PollResult:
        result = PollResult()
        client = connect(self.settings)
        try:
            status, _ = client.select(self.settings.mailbox)
            if status != "OK":
                raise RuntimeError(f"mailbox {self.settings.mailbox!r} cannot be selected")
            _, data = client.uid("SEARCH", None, "UNSEEN")
            for uid in (data[0] or b"").split():
                self._one(client, uid, result)
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
        return result

    def _one(self, client: imaplib.IMAP4, uid: bytes, result: PollResult) -> None:
        _, sized = client.uid("FETCH", uid, "(RFC822.SIZE)")
        match = re.search(
            rb"RFC822\.SIZE (\d+)", b" ".join(p if isinstance(p, bytes) else p[0] for p in sized if p)
        )
        if match and int(match.group(1)) > MAX_MAIL_BYTES:
            log.warning(
                "email: mail uid %s refused (oversized: %s bytes); left in the mailbox",
                uid.decode(),
                match.group(1).decode(),
            )
            result.refuse(Refusal.OVERSIZED)
            self._seen(client, uid)
            return
        _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in fetched if isinstance(part, tuple)), b"")
        try:
            mail = parse_mail(raw, self.channel.own_addresses)
        except MailRefused as exc:
            log.warning(
                "email: mail uid %s refused (%s); not answered, left in the mailbox", uid.decode(), exc
            )
            result.refuse(exc.reason)
            self._seen(client, uid)
            return
        if not self.allow_sender(f"email:{mail.sender}"):
            log.warning(
                "email: sender %s is over the per-sender limit (a mail bomb?); mail uid %s refused for now, left unseen",
                tag(mail.sender),
                uid.decode(),
            )
            result.refuse(Refusal.RATE_LIMITED)
            result.deferred += 1
            return
        thread = thread_of(mail.sender, mail.token)
        payload = None
        if mail.continues:  # a reply naming one of the offered choices (by its title or number)
            conversation_id = self.inbound.messages.channel_conversation(Channel.EMAIL, thread, self.inbound.idle_after)
            payload = chosen_payload(self.inbound.messages.url, conversation_id, mail.text)
        accepted = self.inbound.accept(
            InboundMessage(
                channel=Channel.EMAIL,
                thread=thread,
                sender=mail.sender,
                external_id=mail.message_id[:255],
                text=mail.text,
                payload=payload,
                attachments=mail.attachments,
            )
        )
        self._keep_attachments(accepted.conversation_id, mail)
        self._seen(client, uid)  # only now: stored (or recognised as stored before)
        if accepted.duplicate:
            result.duplicates += 1
            return
        result.stored += 1
        self._process(accepted)

    def _process(self, accepted: Accepted) -> None:
        if accepted.for_bot:
            self.inbound.process(accepted.conversation_id)

    def _keep_attachments(self, conversation_id: str, mail: ParsedMail) -> None:
        """Each file checked and cleaned by bot.attachments, shown to the agent as a customer message.

        Its receipt (Message-ID#n) keeps a re-read mail from adding it twice; a hostile or
        oversized file is refused in the log and the rest of the mail is kept.
        """
        if self.attachments is None:
            return
        log_ = self.inbound.messages
        for index, attachment in enumerate(mail.attachments[:MAX_ATTACHMENTS]):
            receipt = (Channel.EMAIL, f"{mail.message_id[:240]}#{index}")
            if _has_receipt(self.inbound.messages.url, receipt[1]):
                continue
            try:
                stored = self.attachments.accept(conversation_id, attachment.data, attachment.filename, "customer")
            except AttachmentRefused as exc:
                log.warning("email: attachment %d of a mail refused (%s)", index, exc.reason)
                continue
            log_.record(conversation_id, "customer", "", attachment_id=stored.id, receipt=receipt)
        if len(mail.attachments) > MAX_ATTACHMENTS:
            log.warning("email: a mail has %d attachments; only %d kept", len(mail.attachments), MAX_ATTACHMENTS)

    @staticmethod
    def _seen(client: imaplib.IMAP4, uid: bytes) -> None:
        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def _has_receipt(database_url: str, external_id: str) -> bool:
    with session_scope(database_url) as session:
        return (
            session.scalar(
                select(InboundReceipt.id).where(
                    InboundReceipt.channel == Channel.EMAIL.value, InboundReceipt.external_id == external_id
                )
            )
            is not None
        )


def _plain(text: str) -> str:
    return re.sub(r"[\s.!)\-*]+", " ", text).strip().casefold()


def chosen_payload(database_url: str, conversation_id: str, text: str) -> str | None:
    """The payload of the open button a short reply names ("2", "Talk to a person"), else None.

    Only buttons the bot offered after the customer's last message (as bot.messages.log's
    open_payloads); ChannelInbound checks the payload against them again.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1 or len(lines[0]) > 80:
        return None
    said = _plain(lines[0])
    with session_scope(database_url) as session:
        last_customer = session.scalar(
            select(func.max(ChatMessage.id)).where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "customer"
            )
        )
        rows = session.scalars(
            select(ChatMessage.buttons)
            .where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.sender == "bot",
                ChatMessage.id > (last_customer or 0),
            )
            .order_by(ChatMessage.id.desc())
            .limit(1)
        ).all()
    buttons = [b for row in rows for b in (row or []) if isinstance(b, dict) and b.get("payload")]
    for number, button in enumerate(buttons, start=1):
        if said in (str(number), _plain(str(button.get("title", "")))):
            return str(button["payload"])
    return None
