"""Supervisors answer a customer's privacy request: export or erase everything held about an email.

The same service as ``python -m bot privacy export|erase`` (bot.privacy), so the console and the
command line can never disagree about what "everything" is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from bot.privacy import PrivacyService
from bot.web.live_connections import close_conversation_connections
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint

log = logging.getLogger(__name__)


def _privacy() -> PrivacyService:
    return current_app.extensions["services"].privacy


@reports_blueprint.get("/privacy")
@supervisor_required
def privacy_page() -> Any:
    return render_template("reports/privacy.html", agent=g.agent)


@reports_blueprint.post("/privacy/export")
@supervisor_required
def privacy_export() -> Any:
    email = (request.form.get("email") or "").strip()
    try:
        data = _privacy().export(email)
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template("reports/privacy.html", agent=g.agent, email=email), 400
    log.info("supervisor %s exported a customer's data", g.agent.username)  # never the address
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="customer-data.json"'},
    )


@reports_blueprint.post("/privacy/erase")
@supervisor_required
def privacy_erase() -> Any:
    """Two steps: the address (typed twice) lists what was found; erasing takes the listed references."""
    email = (request.form.get("email") or "").strip()
    if request.form.get("confirm") != email or not email:
        flash("Type the email address again to confirm the erasure.", "error")
        return render_template("reports/privacy.html", agent=g.agent, email=email), 400
    try:
        found = _privacy().find(email)
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template("reports/privacy.html", agent=g.agent, email=email), 400
    listed = request.form.getlist("ref")
    if not request.form.get("erase_listed"):
        return render_template("reports/privacy.html", agent=g.agent, email=email, found=found)
    removed = _privacy().erase(email, only=set(listed))
    for conversation_id in removed.conversation_ids:
        close_conversation_connections(conversation_id)  # an open widget stops at once
    log.info("supervisor %s erased a customer's data (%d rows)", g.agent.username, removed.total())
    flash(
        f"Erased {removed.total()} records (conversations, messages, handoffs, notes, mail, Rasa events). "
        "The shop account, orders and returns are the shop's records and were kept.",
        "info",
    )
    return redirect(url_for("reports.privacy_page"), 303)
