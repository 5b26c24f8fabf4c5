"""Agent console views: login, the queue, one conversation with its whole context, tickets, search.

Pages embed their read models as JSON and the console's scripts render every
message and queue row from it with the same functions that render live pushes
(static/render.js), so a row looks the same on load and after an update. Every
POST carries the CSRF token (form field or X-CSRFToken header).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import refresh
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.handoff import agents
from bot.handoff.service import ClaimConflict, HandoffService
from bot.handoff.tickets import answer_ticket_by_email
from bot.kb.schema import LANGUAGES
from bot.messages.log import MessageLog
from bot.messages.models import Channel
from bot.profile.render import render
from bot.rasa.client import RasaUnavailable, bot_replies
from bot.ratelimit import RateLimiter
from bot.shop.mailer import deliver_outbox
from bot.web.console import auth, read_models
from bot.web.console.canned import CannedAnswer
from bot.web.i18n import CONSOLE_LOCALES
from bot.web.live_connections import close_agent_connections

log = logging.getLogger(__name__)
csrf = CSRFProtect()
console_blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/agent",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

JSON_ENDPOINTS = {"console.queue_json", "console.panel", "console.kb_search", "console.canned_json"}
PUBLIC_ENDPOINTS = {"console.login", "console.logout", "console.static"}
MAX_NOTE_CHARS = 4000


# --- helpers ------------------------------------------------------------------
def _service() -> HandoffService:
    return current_app.extensions["handoff"]


def _messages() -> MessageLog:
    return current_app.extensions["services"].messages


def _url() -> str:
    return _service().url


def _settings() -> Any:
    return current_app.extensions["settings"]


def _canned() -> list[CannedAnswer]:
    return current_app.extensions["canned"]


def _wants_json() -> bool:
    if request.endpoint in JSON_ENDPOINTS or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _fail(message: str, status: int, template_redirect: str | None = None) -> Any:
    if _wants_json():
        return jsonify({"error": message}), status
    flash(message, "error")
    return redirect(template_redirect or url_for("console.queue_page"), 303)


def _done(back: str, notice: str | None = None, **data: Any) -> Any:
    if _wants_json():
        return jsonify({"ok": True, **data})
    if notice:
        flash(notice, "info")
    return redirect(back, 303)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/agent/") and "\\" not in target:
            return target
    return url_for("console.queue_page")


def _handoff_or_404(handoff_id: int) -> dict[str, Any]:
    detail = read_models.handoff_detail(_url(), handoff_id)
    if detail is None:
        abort(404)
    return detail


def _payload() -> Any:
    return request.get_json(silent=True) if request.is_json else request.form


def _field(name: str) -> str | None:
    payload = _payload()
    value = payload.get(name) if payload is not None and hasattr(payload, "get") else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _text_problem(text: str | None, noun: str) -> tuple[str, int] | None:
    """Why an agent's text can't be sent (message, status), or None: same limit as customers'."""
    if text is None:
        return f"the {noun} is empty", 400
    limit = _settings().limits.max_message_chars
    if len(text) > limit:
        return f"the {noun} is too long (at most {limit} characters)", 413
    return None


def _here(handoff_id: int) -> str:
    return url_for("console.conversation", handoff_id=handoff_id)


def _team() -> list[dict[str, Any]]:
    return read_models.team(_url(), _settings().handoff.presence_timeout_seconds)


def _channel_filter() -> Channel | None:
    """``?channel=telegram`` (widget, email, telegram); anything else is a 400."""
    value = (request.args.get("channel") or "").strip()
    if not value:
        return None
    try:
        return Channel(value)
    except ValueError:
        abort(400, description=f"channel must be one of {', '.join(c.value for c in Channel)}")


def _queue_state() -> dict[str, Any]:
    team = _team()
    queue = read_models.queue(_url(), g.agent.id, channel=_channel_filter())
    online = sum(1 for a in team if a["presence"] == "online")
    waiting = len(queue["waiting"])
    return {
        **queue,
        "team": team,
        "online": online,
        "within_hours": _service().within_hours(),
        "expected_wait_minutes": _service().expected_wait_minutes(waiting + 1, online) if online else None,
        "labels": read_models.all_labels(_url()),
        "channels": [c.value for c in Channel],
    }


def _deliver_mail_soon() -> None:
    """Send the outbox now, in the background (a greenlet under gevent); the worker's
    outbox-delivery job retries what fails."""
    url, smtp, secret, shop = _url(), _settings().smtp, current_app.extensions["services"].secret, _settings().shop

    def send() -> None:
        try:
            deliver_outbox(url, smtp, secret, shop=shop)
        except Exception:
            log.exception("outbox delivery failed")

    threading.Thread(target=send, name="outbox", daemon=True).start()


@console_blueprint.app_context_processor
def _console_context() -> dict[str, Any]:
    """Shared by every console page; other blueprints add links with ``app.config["CONSOLE_NAV"]``."""
    return {
        "console_nav": current_app.config.get("CONSOLE_NAV", []),
        "shop_timezone": _settings().handoff.timezone,
    }


@console_blueprint.app_template_filter("agent_when")
def _when(value: Any) -> str:
    """A server-rendered time (pages that do not localise with common.js): ISO, UTC."""
    return (read_models.iso(value) or "").replace("T", " ").replace("Z", " UTC") if value else ""


@console_blueprint.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Any:
    message = f"{error.description} Reload the page and try again."
    if _wants_json() or request.headers.get("X-CSRFToken"):
        return jsonify({"error": message}), 400
    if request.endpoint == "console.login":  # e.g. the login form was open for hours
        return render_template(
            "console/login.html",
            next=request.form.get("next", ""),
            username=request.form.get("username", ""),
            error="The form expired; please log in again.",
        ), 400
    return render_template("console/error.html", message=message), 400


@console_blueprint.errorhandler(404)
def _not_found(_error: Any) -> Any:
    if _wants_json():
        return jsonify({"error": "not found"}), 404
    return render_template("console/error.html", message="Not found."), 404


@console_blueprint.before_request
def _require_login() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    agent = auth.current_agent(_url(), session, _settings().console.session_hours)
    if agent is None:
        for key in auth.SESSION_KEYS:
            session.pop(key, None)
        if _wants_json():
            return jsonify({"error": "login required"}), 401
        if request.method != "GET":
            return redirect(url_for("console.login"), 303)
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    g.agent = agent
    return None


@console_blueprint.after_request
def _no_store(response: Response) -> Response:
    """Console pages hold customer data: never kept by the browser or a proxy."""
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


# --- login, logout, password ---------------------------------------------------
@console_blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = request.values.get("next", "")
    lifetime = _settings().console.session_hours
    if request.method == "GET":
        if auth.current_agent(_url(), session, lifetime):
            return redirect(_safe_next(next_url))
        return render_template("console/login.html", next=next_url)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    failures: RateLimiter = current_app.extensions["services"].limits.login_failures
    keys = (f"ip:{request.remote_addr or '?'}", f"user:{username.lower()[:64]}")
    if failures.blocked(*keys):
        return render_template(
            "console/login.html",
            next=next_url,
            username=username,
            error="Too many failed logins. Wait a few minutes and try again.",
        ), 429
    found = agents.authenticate(_url(), username, password) if username and password else None
    if found is None:
        failures.record(*keys)
        return render_template(
            "console/login.html", next=next_url, username=username, error="wrong login or password"
        ), 401
    agents.set_presence(_url(), found.id, "online")  # arriving for a shift; the agent can switch
    agent = read_models.agent_view(_url(), found.id)
    auth.start_session(session, agent)
    session.permanent = True
    log.info("agent %s logged in", agent.username)
    return redirect(_safe_next(next_url), 303)


@console_blueprint.post("/logout")
def logout() -> Any:
    agent = auth.current_agent(_url(), session, _settings().console.session_hours)
    if agent is not None:
        auth.revoke_sessions(_url(), agent.id)  # a copied cookie stops working too
        close_agent_connections(agent.id)  # and no console of theirs receives another push
        log.info("agent %s logged out", agent.username)
    session.clear()
    return redirect(url_for("console.login"), 303)


@console_blueprint.route("/password", methods=["GET", "POST"])
def password() -> Any:
    if request.method == "GET":
        return render_template("console/password.html", agent=g.agent)
    current = request.form.get("current") or ""
    new = request.form.get("new") or ""
    if new != (request.form.get("repeat") or ""):
        return render_template("console/password.html", agent=g.agent, error="The new passwords differ."), 400
    try:
        changed = agents.change_password(_url(), g.agent.id, current, new)
    except ValueError as exc:
        return render_template("console/password.html", agent=g.agent, error=str(exc)), 400
    if not changed:
        return render_template("console/password.html", agent=g.agent, error="The current password is wrong."), 400
    close_agent_connections(g.agent.id)
    session.clear()
    flash("Password changed. Every session was logged out; log in with the new password.", "info")
    return redirect(url_for("console.login"), 303)


@console_blueprint.post("/presence")
def presence() -> Any:
    value = _field("presence")
    try:
        agents.set_presence(_url(), g.agent.id, value or "")
    except ValueError as exc:
        return _fail(str(exc), 400)
    _service()._queue_changed(0, "presence", agent_id=g.agent.id, presence=value)
    return _done(request.referrer or url_for("console.queue_page"), presence=value)


@console_blueprint.post("/locale")
def locale() -> Any:
    try:
        agents.set_locale(_url(), g.agent.id, _field("locale") or "", CONSOLE_LOCALES)
    except ValueError as exc:
        return _fail(str(exc), 400)
    refresh()  # this response already in the new language
    return _done(_safe_next(request.referrer and urlsplit(request.referrer).path), locale=_field("locale"))


# --- the queue ------------------------------------------------------------------
@console_blueprint.get("/")
def queue_page() -> Any:
    agents.touch(_url(), g.agent.id)
    return render_template("console/queue.html", agent=g.agent, state=_queue_state())


@console_blueprint.get("/queue.json")
def queue_json() -> Any:
    return jsonify(_queue_state())


@console_blueprint.post("/handoffs/<int:handoff_id>/claim")
def claim(handoff_id: int) -> Any:
    try:
        _service().claim(handoff_id, g.agent.id)
    except ClaimConflict as exc:
        detail = read_models.handoff_detail(_url(), handoff_id)
        if detail is None:
            return _fail("no such conversation", 404)
        if not (detail["status"] == "assigned" and detail["agent_id"] == g.agent.id):
            return _fail(str(exc), 409)
    return _done(_here(handoff_id), url=_here(handoff_id))


# --- one conversation -----------------------------------------------------------
@console_blueprint.get("/handoffs/<int:handoff_id>")
def conversation(handoff_id: int) -> Any:
    detail = _handoff_or_404(handoff_id)
    url = _url()
    messages = read_models.conversation_messages(url, detail["conversation_id"])
    order = read_models.order_summary(url, detail["context"]["verified_order"])
    emails = read_models.verified_emails(detail, order)
    state = read_models.panel_state(url, handoff_id)
    return render_template(
        "console/conversation.html",
        agent=g.agent,
        handoff=detail,
        page_state={
            "handoff_id": handoff_id,
            "me": g.agent.id,
            "timeline": read_models.timeline(messages, detail["context"]["transcript"]),
            "last_message_id": max((m["id"] for m in messages), default=0),
            "team": _team(),
            "canned": [c.for_language(detail["language"], _settings().shop) for c in _canned()],
            **state,
        },
        order=order,
        verified_emails=sorted(emails),
        history=read_models.customer_history(url, detail, emails),
        languages=LANGUAGES,
    )


@console_blueprint.get("/handoffs/<int:handoff_id>/state")
def panel(handoff_id: int) -> Any:
    state = read_models.panel_state(_url(), handoff_id)
    if state is None:
        return jsonify({"error": "no such conversation"}), 404
    return jsonify(state)


@console_blueprint.post("/handoffs/<int:handoff_id>/messages")
def send_message(handoff_id: int) -> Any:
    """JSON {text} from the console's script; a plain form post works too."""
    back = _here(handoff_id)
    text = _field("text")
    problem = _text_problem(text, "message")
    if problem is not None:
        return _fail(*problem, back)
    try:
        message = _service().agent_reply(handoff_id, g.agent, text)
    except ClaimConflict as exc:
        return _fail(str(exc), 409, back)
    return _done(back, None, message=message)


@console_blueprint.post("/handoffs/<int:handoff_id>/notes")
def add_note(handoff_id: int) -> Any:
    _handoff_or_404(handoff_id)
    back = _here(handoff_id) + "#notes"
    text = _field("text")
    if text is None:
        return _fail("the note is empty", 400, back)
    if len(text) > MAX_NOTE_CHARS:
        return _fail(f"the note is too long (at most {MAX_NOTE_CHARS} characters)", 413, back)
    _service().add_note(handoff_id, g.agent.id, text)
    return _done(back, notes=read_models.notes(_url(), handoff_id))


@console_blueprint.post("/handoffs/<int:handoff_id>/transfer")
def transfer(handoff_id: int) -> Any:
    """``to`` is another agent's id, or ``queue``; ``note`` tells the colleague what is going on."""
    back = _here(handoff_id)
    target = _field("to") or ""
    note = _field("note") or ""
    if len(note) > MAX_NOTE_CHARS:
        return _fail(f"the note is too long (at most {MAX_NOTE_CHARS} characters)", 413, back)
    if target == "queue":
        to_agent: int | None = None
    elif target.isdigit():
        to_agent = int(target)
    else:
        return _fail("choose an agent or the queue", 400, back)
    try:
        _service().transfer(handoff_id, g.agent.id, to_agent, note)
    except LookupError as exc:
        return _fail(str(exc), 400, back)
    except ClaimConflict as exc:
        return _fail(str(exc), 409, back)
    return _done(url_for("console.queue_page"), "Conversation transferred.", url=url_for("console.queue_page"))


@console_blueprint.post("/handoffs/<int:handoff_id>/labels")
def label(handoff_id: int) -> Any:
    payload = _payload()
    present = payload.get("present", True) if hasattr(payload, "get") else True
    present = present not in (False, "0", "false")
    try:
        labels = _service().set_label(handoff_id, _field("label") or "", present)
    except ValueError as exc:
        return _fail(str(exc), 400, _here(handoff_id))
    except LookupError:
        return _fail("no such conversation", 404)
    return _done(_here(handoff_id), labels=labels)


@console_blueprint.post("/handoffs/<int:handoff_id>/resolve")
def resolve(handoff_id: int) -> Any:
    service = _service()
    here = _here(handoff_id)
    try:
        conversation_id = service.resolve(handoff_id, g.agent.id)
    except ClaimConflict as exc:
        return _fail(str(exc), 409, here)
    warning = None
    asked = 0
    rasa = current_app.extensions["rasa"]
    try:
        replies = rasa.resume_and_run(conversation_id, "action_ask_rating")
        _messages().mark_rasa_resumed(conversation_id)
        for reply in bot_replies(replies):
            _messages().record(conversation_id, "bot", reply["text"], buttons=reply["buttons"])
            asked += 1
    except RasaUnavailable as exc:
        log.warning("resolved handoff %s but rasa is unavailable: %s", handoff_id, exc)
        warning = "Resolved, but the assistant could not be reached: the customer was not asked for a rating."
    if _wants_json():
        return jsonify({"ok": True, "rating_prompt": asked > 0, "warning": warning})
    flash(
        warning or "Conversation resolved; the customer was asked for a rating.",
        "warning" if warning else "info",
    )
    return redirect(here, 303)


# --- tickets --------------------------------------------------------------------
@console_blueprint.post("/tickets/<int:handoff_id>/promise-kept")
def promise_kept(handoff_id: int) -> Any:
    if not _service().keep_promise(handoff_id, g.agent.id):
        return _fail("there is no open promise on this ticket", 404)
    return _done(url_for("console.queue_page"), "Promise marked as kept.")


@console_blueprint.post("/tickets/<int:handoff_id>/email")
def email_answer(handoff_id: int) -> Any:
    """Answer a ticket by email (through the outbox); keeps the promise and shows in the chat."""
    back = _here(handoff_id)
    text = _field("text")
    problem = _text_problem(text, "answer")
    if problem is not None:
        return _fail(*problem, back)
    _handoff_or_404(handoff_id)
    try:
        secret = current_app.extensions["services"].secret
        sent = answer_ticket_by_email(
            _service(), _messages(), secret, handoff_id, g.agent, text, shop=_settings().shop
        )
    except ClaimConflict as exc:
        return _fail(str(exc), 409, back)
    except LookupError as exc:
        return _fail(str(exc), 409, back)
    _deliver_mail_soon()
    return _done(back, f"Answer queued for {sent['to']}; the promise is kept.", to=sent["to"])


# --- canned answers, knowledge base, search ----------------------------------------
@console_blueprint.get("/canned.json")
def canned_json() -> Any:
    lang = request.args.get("lang") or "en"
    if lang not in LANGUAGES:
        return jsonify({"error": f"lang is one of {', '.join(LANGUAGES)}"}), 400
    return jsonify({"answers": [c.for_language(lang, _settings().shop) for c in _canned()]})


@console_blueprint.get("/kb/search")
def kb_search() -> Any:
    query = (request.args.get("q") or "").strip()
    lang = request.args.get("lang") or "en"
    if not query or len(query) > 200:
        return jsonify({"error": "type 1 to 200 characters to search"}), 400
    if not current_app.extensions["services"].limits.kb_searches_per_agent.allow(str(g.agent.id)):
        return jsonify({"error": "too many searches in a minute; wait a moment"}), 429  # each embeds a query
    if lang not in LANGUAGES:
        lang = "en"
    try:
        kb = current_app.extensions["services"].knowledge_base
        found = read_models.kb_suggestions(kb, query, lang)
        for result in found["results"] + found["weaker"]:  # the agent sees (and may paste) the facts
            result["answer"] = render(result["answer"], _settings().shop, result["lang"])
    except Exception:
        log.exception("knowledge base search failed")
        return jsonify({"error": "the knowledge base is not available right now"}), 503
    return jsonify({**found, "lang": lang})


@console_blueprint.get("/search")
def search() -> Any:
    query = (request.args.get("q") or "").strip()
    label_filter = (request.args.get("label") or "").strip().lower() or None
    if len(query) > 200:
        return _fail("search for at most 200 characters", 400)
    results = read_models.search(_url(), query, label_filter) if (query or label_filter) else []
    if _wants_json():
        return jsonify({"results": results})
    return render_template(
        "console/search.html",
        agent=g.agent,
        query=query,
        label=label_filter or "",
        labels=read_models.all_labels(_url()),
        results=results,
        searched=bool(query or label_filter),
    )
