"""Unanswered questions for the content team: the groups, and turning one into FAQ content."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bot.analytics import gaps
from bot.kb.editor import EditRejected, LanguageDraft, add_entry, add_phrasings
from bot.kb.loader import faq_files
from bot.kb.schema import LANGUAGES
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint

log = logging.getLogger(__name__)
MAX_IDS = 5000
MAX_QUESTIONS = 30


def _services() -> Any:
    return current_app.extensions["services"]


def _days() -> int:
    try:
        return min(max(int(request.args.get("days", "30")), 1), 365)
    except ValueError:
        return 30


SHOWN_OPEN = 100  # the largest open groups; the CLI lists them all
SHOWN_ADDRESSED = 20


def _groups() -> tuple[list[gaps.GapGroup], int]:
    """The open groups and the addressed ones shown, and how many groups are dismissed."""
    services = _services()
    groups = gaps.gap_groups(services.database_url, services.knowledge_base, days=_days())
    open_groups = [g for g in groups if not g.addressed and not g.dismissed][:SHOWN_OPEN]
    dismissed = sum(1 for g in groups if g.dismissed)
    return open_groups + [g for g in groups if g.addressed][:SHOWN_ADDRESSED], dismissed


@reports_blueprint.get("/gaps")
@supervisor_required
def gaps_page() -> Any:
    services = _services()
    groups, dismissed = _groups()
    kb = services.knowledge_base
    files = [p.name for p in faq_files(services.settings.kb_path)]
    return render_template(
        "reports/gaps.html",
        agent=g.agent,
        groups=[
            {
                **group.as_dict(),
                "nearest": kb.entry(group.nearest_id) if group.nearest_id and group.near else None,
                "suggested_id": gaps.suggested_id(
                    next((m.text for m in group.examples() if m.language == "en"), group.examples()[0].text)
                ),
            }
            for group in groups
        ],
        languages=LANGUAGES,
        files=files,
        days=_days(),
        dismissed=dismissed,
    )


@reports_blueprint.get("/gaps.json")
@supervisor_required
def gaps_json() -> Any:
    return jsonify({"groups": [group.as_dict() for group in _groups()[0]]})


def _event_ids() -> list[int]:
    raw = request.form.get("event_ids", "")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise EditRejected([]) from None
    if not ids or len(ids) > MAX_IDS:
        raise EditRejected([])
    return ids


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()][:MAX_QUESTIONS]


def _done(entry_id: str, ids: list[int], what: str) -> Any:
    gaps.mark_addressed(_services().database_url, ids, entry_id)
    kb = _services().knowledge_base
    kb.reload_if_changed()  # this process goes live now; the action server's watcher follows within a second
    flash(f"{what} '{entry_id}'. It is live once the assistant reloads (about a second).", "info")
    return redirect(url_for("reports.gaps_page"), 303)


def _rejected(exc: EditRejected) -> Any:
    message = "; ".join(str(i) for i in exc.issues) or "the form was incomplete"
    flash(f"Not saved: {message}", "error")
    return gaps_page()


@reports_blueprint.post("/gaps/phrasings")
@supervisor_required
def gap_add_phrasings() -> Any:
    services = _services()
    try:
        ids = _event_ids()
        entry_id = (request.form.get("entry_id") or "").strip()
        lang = request.form.get("lang") or ""
        questions = _lines(request.form.get("questions"))
        if not entry_id or not questions:
            raise EditRejected([])
        add_phrasings(
            services.settings.kb_path,
            entry_id,
            lang,
            questions,
            request.form.get("answer"),
            check=services.knowledge_base.check_candidate,
        )
    except EditRejected as exc:
        return _rejected(exc), 400
    log.info("supervisor %s added %s phrasings to %s", g.agent.username, lang, entry_id)
    return _done(entry_id, ids, "Phrasings added to")


@reports_blueprint.post("/gaps/entry")
@supervisor_required
def gap_new_entry() -> Any:
    services = _services()
    form = request.form
    try:
        ids = _event_ids()
        entry_id = (form.get("entry_id") or "").strip()
        texts = {
            lang: LanguageDraft(
                tuple(_lines(form.get(f"{lang}_questions"))), (form.get(f"{lang}_answer") or "").strip()
            )
            for lang in LANGUAGES
        }
        add_entry(
            services.settings.kb_path,
            form.get("file") or "",
            entry_id,
            [t for t in (form.get("tags") or "").replace(",", " ").split() if t][:3],
            texts,
            check=services.knowledge_base.check_candidate,
        )
    except EditRejected as exc:
        return _rejected(exc), 400
    log.info("supervisor %s added FAQ entry %s", g.agent.username, entry_id)
    return _done(entry_id, ids, "New entry")


@reports_blueprint.post("/gaps/dismiss")
@supervisor_required
def gap_dismiss() -> Any:
    """Hide a group that needs no content (it comes back when new messages join it)."""
    try:
        ids = _event_ids()
    except EditRejected:
        flash(_("Nothing to dismiss."), "error")
        return redirect(url_for("reports.gaps_page"), 303)
    count = gaps.dismiss(_services().database_url, ids)
    log.info("supervisor %s dismissed a gap group of %d messages", g.agent.username, count)
    flash(_("Dismissed. The group comes back if more customers ask the same."), "info")
    return redirect(url_for("reports.gaps_page", days=request.args.get("days", 30)), 303)
