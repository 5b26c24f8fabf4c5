"""Sends queued outbox mail over SMTP when SMTP_HOST is configured; otherwise mail waits.

Keeping the outbox as the source of truth means a slow or absent mail server never
blocks a conversation, and nothing is lost when it is down.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select

from bot.db import session_scope
from bot.settings import SmtpSettings
from bot.shop.models import OutboxEmail

log = logging.getLogger(__name__)


def deliver_outbox(database_url: str, smtp: SmtpSettings | None, limit: int = 50) -> int:
    """Send unsent mail; returns how many were sent. A failure leaves the row queued."""
    if smtp is None:
        return 0
    sent = 0
    with session_scope(database_url) as session:
        pending = session.execute(
            select(OutboxEmail).where(OutboxEmail.sent_at.is_(None)).order_by(OutboxEmail.id).limit(limit)
        ).scalars()
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username:
                    client.login(smtp.username, smtp.password or "")
                for mail in pending:
                    message = EmailMessage()
                    message["From"], message["To"], message["Subject"] = (
                        smtp.sender,
                        mail.to_address,
                        mail.subject,
                    )
                    message.set_content(mail.body)
                    client.send_message(message)
                    mail.sent_at = datetime.utcnow()
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery failed, mail stays queued: %s", type(exc).__name__)
    return sent
