"""Content editing in the console for supervisors: FAQ entries and canned answers.

The same path as every other FAQ change: ruamel round-trip edit of the YAML file,
the loader's validation and the publishing check (no other entry may start
answering wrongly) on a copy of the folder, an atomic replace, then the hot
reload (this process at once, the action server's watcher within a second).
Problems of the files on disk are listed here with their line and the line's text.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bot.kb.editor import EditRejected, LanguageDraft, update_entry
from bot.kb.loader import faq_files
from bot.kb.schema import LANGUAGES, Issue
from bot.kb.service import validate
from bot.web.console import canned
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint

log = logging.getLogger(__name__)
MAX_QUESTIONS = 60
ISSUE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<severity>error|warning): (?P<message>.*)$")
# A number in a canned answer is often a shop fact that will drift from the FAQ (5 vs 14 days).
NUMBER = re.compile(r"(?<![{\w.])\d+(?:[.,]\d+)?(?![\w}])")


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int
    severity: str
    message: str
    text: str  # the line itself, so the editor sees what is meant


def _services() -> Any:
    return current_app.extensions["services"]


def _kb_dir() -> Path:
    return _services().settings.kb_path


def _canned_path() -> Path:
    settings = _services().settings
    return settings.root / settings.console.canned_path


def _line_of(path: Path, line: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""


def file_problems(issues: list[Issue]) -> list[FileProblem]:
    return [
        FileProblem(Path(i.file).name, i.line, i.severity, i.message, _line_of(Path(i.file), i.line))
        for i in sorted(issues, key=lambda i: (i.severity != "error", i.file, i.line))
    ]


def canned_problems() -> tuple[list[canned.CannedAnswer], list[str], list[str]]:
    """The canned answers on disk, their errors (as loading sees them) and warnings."""
    try:
        answers = canned.load(_canned_path())
    except canned.CannedError as exc:
        return [], str(exc).splitlines(), []
    warnings = []
    for answer in answers:
        for lang, text in answer.text.items():
            numbers = NUMBER.findall(text)
            if numbers:
                warnings.append(
                    _(
                        "/%(code)s (%(lang)s) states %(numbers)s: if it is a shop fact (days, amounts), "
                        "write it as {{ shop.… }} so it matches the FAQ and the bot",
                        code=answer.shortcode,
                        lang=lang,
                        numbers=", ".join(numbers),
                    )
                )
    return answers, [], warnings


@reports_blueprint.get("/content")
@supervisor_required
def content_page() -> Any:
    kb = _services().knowledge_base
    result = validate(_kb_dir())
    status = kb.status()
    answers, canned_errors, canned_warnings = canned_problems()
    by_file: dict[str, list[str]] = {p.name: [] for p in faq_files(_kb_dir())}
    for entry in sorted(kb.entries(), key=lambda e: (e.source, e.line)):
        by_file.setdefault(Path(entry.source).name, []).append(entry.id)
    return render_template(
        "reports/content.html",
        agent=g.agent,
        problems=file_problems(result.issues),
        serving_last_good=status.serving_last_good,
        by_file=by_file,
        answers=answers,
        canned_errors=canned_errors,
        canned_warnings=canned_warnings,
    )


# --- FAQ entries -----------------------------------------------------------------
def _drafts(form: Any) -> tuple[list[str], dict[str, LanguageDraft]]:
    tags = [t for t in (form.get("tags") or "").replace(",", " ").split() if t][:5]
    texts = {}
    for lang in LANGUAGES:
        questions = [q.strip() for q in (form.get(f"{lang}_questions") or "").splitlines() if q.strip()]
        texts[lang] = LanguageDraft(
            tuple(questions[:MAX_QUESTIONS]), (form.get(f"{lang}_answer") or "").strip()
        )
    return tags, texts


def _entry_or_404(entry_id: str) -> Any:
    entry = _services().knowledge_base.entry(entry_id)
    if entry is None:
        abort(404)
    return entry


def _issue_dicts(issues: list[Issue]) -> list[dict[str, Any]]:
    return [
        {"file": p.file, "line": p.line, "severity": p.severity, "message": p.message, "text": p.text}
        for p in file_problems(issues)
    ]


@reports_blueprint.get("/content/faq/<entry_id>")
@supervisor_required
def faq_edit_page(entry_id: str) -> Any:
    entry = _entry_or_404(entry_id)
    return render_template(
        "reports/faq_edit.html",
        agent=g.agent,
        entry=entry,
        file=Path(entry.source).name,
        languages=LANGUAGES,
        links=[{"title": link.title, "url": link.url} for link in entry.links],
    )


@reports_blueprint.post("/content/faq/<entry_id>/check")
@supervisor_required
def faq_check(entry_id: str) -> Any:
    """The publishing check for the form's content, without saving anything."""
    _entry_or_404(entry_id)
    tags, texts = _drafts(request.form)
    kb = _services().knowledge_base
    problems: list[FileProblem] = []

    def check(candidate: Path) -> list[Issue]:
        problems.extend(file_problems(kb.check_candidate(candidate)))  # line texts from the candidate
        raise EditRejected([])  # a check never publishes

    with contextlib.suppress(EditRejected):
        update_entry(_kb_dir(), entry_id, tags, texts, check=check)
    return jsonify(
        {
            "ok": not any(p.severity == "error" for p in problems),
            "issues": [p.__dict__ for p in problems],
        }
    )


@reports_blueprint.post("/content/faq/<entry_id>")
@supervisor_required
def faq_save(entry_id: str) -> Any:
    _entry_or_404(entry_id)
    tags, texts = _drafts(request.form)
    kb = _services().knowledge_base
    try:
        update_entry(_kb_dir(), entry_id, tags, texts, check=kb.check_candidate)
    except EditRejected as exc:
        if request.is_json or request.accept_mimetypes.best == "application/json":
            return jsonify({"ok": False, "issues": _issue_dicts(exc.issues)}), 400
        flash(_("Not saved: %(problems)s", problems="; ".join(i.message for i in exc.issues)), "error")
        return redirect(url_for("reports.faq_edit_page", entry_id=entry_id), 303)
    kb.reload_if_changed()  # live in this process now; the action server's watcher follows
    log.info("supervisor %s edited FAQ entry %s", g.agent.username, entry_id)
    flash(_("Saved '%(id)s'. The assistant answers with it from now on.", id=entry_id), "info")
    return redirect(url_for("reports.faq_edit_page", entry_id=entry_id), 303)


# --- canned answers ----------------------------------------------------------------
@reports_blueprint.get("/content/canned/<shortcode>")
@supervisor_required
def canned_edit_page(shortcode: str) -> Any:
    answers, errors, _warnings = canned_problems()
    answer = next((a for a in answers if a.shortcode == shortcode), None)
    if answer is None and not canned.SHORTCODE.match(shortcode):
        abort(404)
    return render_template(
        "reports/canned_edit.html",
        agent=g.agent,
        shortcode=shortcode,
        answer=answer,
        errors=errors,
        languages=LANGUAGES,
    )


@reports_blueprint.post("/content/canned/<shortcode>")
@supervisor_required
def canned_save(shortcode: str) -> Any:
    if not canned.SHORTCODE.match(shortcode):
        abort(404)
    form = request.form
    try:
        answers = canned.save_answer(
            _canned_path(),
            shortcode,
            form.get("title") or "",
            {lang: form.get(f"{lang}_text") or "" for lang in LANGUAGES},
        )
    except canned.CannedError as exc:
        flash(_("Not saved: %(problems)s", problems=str(exc)), "error")
        return redirect(url_for("reports.canned_edit_page", shortcode=shortcode), 303)
    current_app.extensions["canned"] = answers  # this gateway's agents get it at once
    log.info("supervisor %s edited canned answer /%s", g.agent.username, shortcode)
    flash(_("Saved /%(code)s.", code=shortcode), "info")
    return redirect(url_for("reports.canned_edit_page", shortcode=shortcode), 303)
