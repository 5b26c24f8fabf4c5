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
from datetime import datetime, timedelta
from email.message import EmailMessage

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from bot.db import session_scope
from bot.settings import SmtpSettings
from bot.shop.models import OutboxEmail

log = logging.getLogger(__name__)


def _fernet(secret: bytes) -> Fernet:
    key = hmac.new(secret, b"voltmart outbox body", hashlib.sha256).digest()
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


def deliver_outbox(database_url: str, smtp: SmtpSettings | None, secret: bytes, limit: int = 50) -> int:
    """Send unsent mail; returns how many were sent. A failure leaves the row queued."""
    if smtp is None:
        return 0
    sent = 0
    with session_scope(database_url) as session:
        pending = session.execute(
            select(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None), OutboxEmail.body != "")
            .order_by(OutboxEmail.id)
            .limit(limit)
        ).scalars()
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username:
                    client.login(smtp.username, smtp.password or "")
                for mail in pending:
                    body = unseal(secret, mail.body)
                    if body is None:
                        log.warning("outbox mail %s cannot be decrypted (another secret?); dropped", mail.id)
                        mail.body = ""
                        continue
                    message = EmailMessage()
                    message["From"], message["To"], message["Subject"] = (
                        smtp.sender,
                        mail.to_address,
                        mail.subject,
                    )
                    message.set_content(body)
                    client.send_message(message)
                    mail.sent_at = datetime.utcnow()
                    mail.body = ""  # sent: the link inside is no business of the database any more
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery failed, mail stays queued: %s", type(exc).__name__)
    return sent
