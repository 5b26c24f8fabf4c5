"""The email channel: mails read over IMAP (bot.channels.email.imap), replies sent over SMTP in the thread.

A conversation's ``channel_thread`` is ``"<sender address> <token>"``: replies go to that exact
address only, and a mail continues the conversation only when it comes from the same address and
names the token (in our Message-IDs it replies to, or in ``support+<token>@``). Each reply carries
In-Reply-To/References of the customer's last mail and a Message-ID ``<t.<token>.<random>@domain>``,
so the customer's answer to it finds the thread again. See docs/channels.md.
"""

from __future__ import annotations

import secrets
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import select

from bot.channels.base import DeliveryError, OutboundMessage
from bot.db import session_scope
from bot.messages.models import Channel, Conversation, InboundReceipt
from bot.settings import EmailSettings, Settings, SmtpSettings


def thread_of(sender: str, token: str) -> str:
    return f"{sender} {token}"


def split_thread(thread: str) -> tuple[str, str]:
    sender, _, token = thread.partition(" ")
    return sender, token


class EmailChannel:
    channel = Channel.EMAIL

    def __init__(
        self, database_url: str, smtp: SmtpSettings, email: EmailSettings, shop_name: str = ""
    ) -> None:
        self.url = database_url
        self.smtp = smtp
        self.email = email
        self.address = email.address or smtp.sender
        self.shop_name = shop_name

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.address, self.email.imap_user, self.smtp.sender) if a)

    def deliver(self, thread: str, message: OutboundMessage) -> None:
        to_address, token = split_thread(thread)
        if not to_address or not token:
            raise DeliveryError("not an email thread", permanent=True)
        last = self._last_customer_mail(thread)
        text = message.text
        if message.sender == "agent" and message.agent_name:
            text = f"{message.agent_name}: {text}"
        if message.buttons:  # a mail has no buttons: numbered choices; a reply "2" or the title picks one
            text += "\n\n" + "\n".join(
                f"{number}. {button.title or button.payload}" for number, button in enumerate(message.buttons, start=1)
            )
        mail = EmailMessage()
        local, _, domain = self.address.partition("@")
        mail["From"] = self.address
        mail["To"] = to_address
        mail["Reply-To"] = f"{local}+{token}@{domain}" if domain else self.address
        subject = self.shop_name or "Support"
        mail["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = (
            f"<t.{token}.{message.message_id}x{secrets.token_hex(4)}@{domain or 'localhost'}>"
        )
        mail["Auto-Submitted"] = "auto-replied" if message.sender != "agent" else "no"
        if last.get("message_id"):
            mail["In-Reply-To"] = last["message_id"]
            mail["References"] = last["references"]
        mail.set_content(text)
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=15) as client:
                if self.smtp.starttls:
                    client.starttls()
                if self.smtp.username:
                    client.login(self.smtp.username, self.smtp.password or "")
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("recipient refused", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:  # retried by the dispatcher
            raise DeliveryError(type(exc).__name__) from exc

    def _last_customer_mail(self, thread: str) -> dict[str, str]:
        """Message-IDs of the customer's mails in this thread, oldest first (their receipts).

        The message log forgets a message's meta once it is relayed, so the subject is not kept:
        replies say "Re: <shop name>" (Gmail may then show them apart from the customer's mail).
        """
        with session_scope(self.url) as session:
            ids = session.scalars(
                select(InboundReceipt.external_id)
                .join(Conversation, Conversation.id == InboundReceipt.conversation_id)
                .where(
                    InboundReceipt.channel == Channel.EMAIL.value,
                    Conversation.channel == Channel.EMAIL.value,
                    Conversation.channel_thread == thread,
                )
                .order_by(InboundReceipt.id.desc())
                .limit(10)
            ).all()
        ids = [i for i in reversed(ids) if i.startswith("<") and i.endswith(">")]
        return {"message_id": ids[-1], "references": " ".join(ids)} if ids else {}


def build(settings: Settings) -> EmailChannel | None:
    if settings.email is None or settings.smtp is None:
        return None
    return EmailChannel(settings.database_url, settings.smtp, settings.email, settings.shop.name)
