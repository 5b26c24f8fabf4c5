"""Sends queued outbox mail over SMTP when SMTP_HOST is configured; otherwise mail waits.

Keeping the outbox as the source of truth means a slow or absent mail server never
blocks a conversation, and nothing is lost when it is down. A body can carry a reset
link, so it is stored encrypted with a key derived from the app secret, and emptied
once the mail is sent or its link has expired: the table never holds a usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.profile.model import ShopProfile
from bot.profile.render import render
from bot.settings import SmtpSettings
from bot.shop.models import OutboxEmail

log = logging.getLogger(__name__)


def _fernet(secret: bytes) -> Fernet:
    key = hmac.new(secret, b"support-bot outbox body", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: bytes, body: str) -> str:
    """The body as stored in the outbox: encrypted and authenticated."""
    return _fernet(secret).encrypt(body.encode()).decode()


def unseal(secret: bytes, stored: str) -> str | None:
    """The body to send, or None when it was forgotten or sealed with another secret."""
    if not stored:
        return None
    try:
        return _fernet(secret).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


class MailDelivery(StrEnum):
    SMTP = "smtp"  # mail leaves through the configured server
    DEV_OUTBOX = "dev_outbox"  # development: nothing leaves; supervisors read it in the console
    NONE = "none"  # nothing leaves, and nobody reads it: the bot promises no mail


@dataclass(frozen=True)
class MailStatus:
    delivery: MailDelivery
    queued: int  # waiting to be sent (or, without SMTP, never leaving)

    @property
    def configured(self) -> bool:
        return self.delivery is MailDelivery.SMTP

    def describe(self) -> str:
        """One line for the start banner and /health."""
        if self.delivery is MailDelivery.SMTP:
            return "mail: sent over SMTP"
        where = "read it on the console's Outbox page (/agent/outbox)" if self.delivery is MailDelivery.DEV_OUTBOX else ""
        return "mail: NOT configured (SMTP_HOST is not set): no mail is sent and the bot promises none" + (
            f"; {where}" if where else ""
        )


def mail_status(database_url: str, smtp: SmtpSettings | None, dev_outbox: bool) -> MailStatus:
    if smtp is not None:
        delivery = MailDelivery.SMTP
    else:
        delivery = MailDelivery.DEV_OUTBOX if dev_outbox else MailDelivery.NONE
    with session_scope(database_url) as session:
        queued = session.scalar(
            select(func.count()).where(OutboxEmail.sent_at.is_(None), OutboxEmail.body != "")
        )
    return MailStatus(delivery, int(queued or 0))


def forget_unsent(database_url: str, older_than: timedelta) -> int:
    """Empty mail that waited longer than its link lives (nobody can use it); returns how many."""
    cutoff = datetime.utcnow() - older_than
    with session_scope(database_url) as session:
        result = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None), OutboxEmail.body != "", OutboxEmail.created_at < cutoff)
            .values(body="")
        )
        return int(result.rowcount or 0)


def _connection_failed(exc: Exception) -> bool:
    """The connection itself failed (every mail stays queued), not this one mail.

    Every SMTP error is an OSError too, so socket errors are told apart by not being SMTP errors.
    """
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | smtplib.SMTPAuthenticationError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def deliver_outbox(
    database_url: str, smtp: SmtpSettings | None, secret: bytes, limit: int = 50, shop: ShopProfile | None = None
) -> int:
    """Send unsent mail; returns how many were sent.

    When the server can't be reached, everything stays queued. When one mail fails on its
    own (its address refused, a header it can't carry, any unexpected error), that mail is
    logged and marked failed, and the batch carries on with the next.
    ``{{ shop.* }}`` left in a subject or body (mail queued by any part of the product) is filled
    here, the one door every mail leaves by.
    """
    if smtp is None:
        return 0
    sent = 0
    with session_scope(database_url) as session:
        pending = _claim(session, limit)
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username:
                    client.login(smtp.username, smtp.password or "")
                for mail in list(pending):
                    body = unseal(secret, mail.body)
                    if body is None:
                        log.warning("outbox mail %s cannot be decrypted (another secret?); dropped", mail.id)
                        mail.body = ""
                        continue
                    try:
                        _send(client, smtp.sender or (shop.mail_sender if shop else ""), mail, body, shop)
                    except Exception as exc:  # this mail only: the others still go out
                        if _connection_failed(exc):
                            raise
                        log.error("outbox mail %s not sent and marked failed: %s", mail.id, type(exc).__name__)
                        mail.failed_at = datetime.utcnow()
                        mail.failure = f"{type(exc).__name__}: {exc}"[:200]
                        continue
                    mail.sent_at = datetime.utcnow()
                    mail.body = ""  # sent: the link inside is no business of the database any more
                    mail.claimed_until = None
                    pending.remove(mail)
                    sent += 1
                    session.commit()  # each sent mail is recorded at once: a later failure can't resend it
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery failed, mail stays queued: %s", type(exc).__name__)
        for mail in pending:  # not sent by us: free for the next run at once
            mail.claimed_until = None
    return sent


CLAIM_FOR = timedelta(minutes=5)  # far longer than one batch (10 s SMTP timeout per step)


def _claim(session: Session, limit: int) -> list[OutboxEmail]:
    """Unsent mail this sender now owns, committed before any is sent.

    Each row is taken by one conditional UPDATE, so of two senders running at once (the
    worker's minute and an immediate send from the console) only one sends a given mail.
    """
    now = datetime.utcnow()
    ids = session.scalars(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.failed_at.is_(None),
            OutboxEmail.body != "",
            or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
        )
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    mine = []
    for mail_id in ids:
        taken = session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == mail_id,
                OutboxEmail.sent_at.is_(None),
                OutboxEmail.failed_at.is_(None),
                or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_FOR)
        )
        if taken.rowcount == 1:
            mine.append(mail_id)
    session.commit()
    if not mine:
        return []
    return list(session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(mine)).order_by(OutboxEmail.id)))


def _send(client: smtplib.SMTP, sender: str, mail: OutboxEmail, body: str, shop: ShopProfile | None = None) -> None:
    subject = mail.subject
    if shop is not None:
        subject, body = render(subject, shop), render(body, shop)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender or "no-reply@localhost", mail.to_address, subject
    message.set_content(body)
    client.send_message(message)
