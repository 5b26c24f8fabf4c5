"""The development outbox: with no mail server, supervisors read here what the bot would mail.

Only when ``MAIL_DEV_OUTBOX=1`` and SMTP is not configured (``make run`` sets it): the
bodies can hold reset links, so production never shows them. Text is escaped by Jinja.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, current_app, g, render_template
from sqlalchemy import select

from bot.db import session_scope
from bot.shop.mailer import mail_status, unseal
from bot.shop.models import OutboxEmail
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint

SHOWN = 100


@dataclass(frozen=True)
class OutboxMail:
    id: int
    to: str
    subject: str
    body: str | None  # None once it was sent or forgotten (the table keeps no usable link)
    created_at: datetime
    sent_at: datetime | None


def recent_mail(database_url: str, secret: bytes, limit: int = SHOWN) -> list[OutboxMail]:
    with session_scope(database_url) as session:
        rows = session.execute(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)).scalars()
        return [
            OutboxMail(r.id, r.to_address, r.subject, unseal(secret, r.body), r.created_at, r.sent_at) for r in rows
        ]


@reports_blueprint.get("/outbox")
@supervisor_required
def outbox_page() -> Any:
    services = current_app.extensions["services"]
    settings = services.settings
    if not settings.dev_outbox:
        abort(404)
    status = mail_status(services.database_url, settings.smtp, settings.dev_outbox)
    return render_template(
        "reports/outbox.html",
        agent=g.agent,
        status=status,
        mails=recent_mail(services.database_url, services.secret),
    )
