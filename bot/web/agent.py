"""Agent console: login, the queue, one conversation with its whole context, live chat.

Server-rendered pages (Jinja autoescape) plus small plain scripts in
static/agent/ that render with textContent only. Every POST carries the CSRF
token (form field or X-CSRFToken header); the session cookie holds the agent id.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.handoff import agents, queries
from bot.handoff.service import ClaimConflict, HandoffService
from bot.kb.schema import LANGUAGES
from bot.messages.log import MessageLog
from bot.web.rasa_client import RasaUnavailable, bot_replies
from bot.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)
csrf = CSRFProtect()
agent_blueprint = Blueprint("agent", __name__, url_prefix="/agent")

POLL_STEP_SECONDS = 1.0  # the long-poll fallback; the console is pushed over Socket.IO
MAX_WAIT_SECONDS = 25.0
JSON_ENDPOINTS = {"agent.queue_json", "agent.events", "agent.kb_search"}
PUBLIC_ENDPOINTS = {"agent.login", "agent.logout"}


# --- helpers ------------------------------------------------------------------
def _service() -> HandoffService:
    return current_app.extensions["handoff"]


def _messages() -> MessageLog:
    return current_app.extensions["services"].messages


def _url() -> str:
    return _service().url


def _wants_json() -> bool:
    if request.endpoint in JSON_ENDPOINTS or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _fail(message: str, status: int, template_redirect: str | None = None) -> Any:
    if _wants_json():
        return jsonify({"error": message}), status
    flash(message, "error")
    return redirect(template_redirect or url_for("agent.queue_page"), 303)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/agent/") and "\\" not in target:
            return target
    return url_for("agent.queue_page")


def _bounded_number(name: str, low: float, high: float) -> float:
    """A query-string number; ValueError for text, NaN, infinities and values out of range."""
    try:
        value = float(request.args.get(name) or "0")
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}")
    return value


def _handoff_or_404(handoff_id: int) -> dict[str, Any]:
    detail = queries.handoff_detail(_url(), handoff_id)
    if detail is None:
        abort(404)
    return detail


def _text_field() -> str | None:
    payload = request.get_json(silent=True) if request.is_json else request.form
    text = payload.get("text") if payload is not None and hasattr(payload, "get") else None
    return text.strip() if isinstance(text, str) and text.strip() else None


@agent_blueprint.app_template_filter("agent_when")
def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


@agent_blueprint.app_template_filter("agent_iso")
def _iso(value: Any) -> str:
    return (queries.iso(value) or "") if isinstance(value, datetime) else ""


@agent_blueprint.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> Any:
    message = f"{error.description} Reload the page and try again."
    if _wants_json() or request.headers.get("X-CSRFToken"):
        return jsonify({"error": message}), 400
    if request.endpoint == "agent.login":  # e.g. the login form was open for hours
        return render_template(
            "agent/login.html",
            next=request.form.get("next", ""),
            username=request.form.get("username", ""),
            error="The form expired; please log in again.",
        ), 400
    return render_template("agent/error.html", message=message), 400


@agent_blueprint.errorhandler(404)
def _not_found(_error: Any) -> Any:
    if _wants_json():
        return jsonify({"error": "not found"}), 404
    return render_template("agent/error.html", message="Not found."), 404


@agent_blueprint.before_request
def _require_login() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    agent = queries.agent_by_id(_url(), session.get("agent_id"))
    if agent is None:
        session.pop("agent_id", None)
        if _wants_json():
            return jsonify({"error": "login required"}), 401
        if request.method != "GET":
            return redirect(url_for("agent.login"), 303)
        return redirect(url_for("agent.login", next=request.full_path.rstrip("?")))
    g.agent = agent
    return None


# --- login ----------------------------------------------------------------------
@agent_blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if queries.agent_by_id(_url(), session.get("agent_id")):
            return redirect(_safe_next(next_url))
        return render_template("agent/login.html", next=next_url)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    failures: RateLimiter = current_app.extensions["services"].limits.login_failures
    keys = (f"ip:{request.remote_addr or '?'}", f"user:{username.lower()[:64]}")
    if failures.blocked(*keys):
        return render_template(
            "agent/login.html",
            next=next_url,
            username=username,
            error="Too many failed logins. Wait a few minutes and try again.",
        ), 429
    agent = agents.authenticate(_url(), username, password) if username and password else None
    if agent is None:
        failures.record(*keys)
        return render_template(
            "agent/login.html", next=next_url, username=username, error="wrong login or password"
        ), 401
    session.clear()  # a fresh session (and CSRF token) at every login: no fixation
    session.permanent = True
    session["agent_id"] = agent.id
    session["login_at"] = int(time.time())
    log.info("agent %s logged in", agent.username)
    return redirect(_safe_next(next_url), 303)


@agent_blueprint.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("agent.login"), 303)


# --- the queue ------------------------------------------------------------------
@agent_blueprint.get("/")
def queue_page() -> Any:
    agents.touch(_url(), g.agent.id)
    return render_template("agent/queue.html", agent=g.agent, queue=queries.queue(_url(), g.agent.id))


@agent_blueprint.get("/queue.json")
def queue_json() -> Any:
    agents.touch(_url(), g.agent.id)  # polling keeps the agent "online" for new handoffs
    return jsonify(queries.queue(_url(), g.agent.id))


@agent_blueprint.post("/handoffs/<int:handoff_id>/claim")
def claim(handoff_id: int) -> Any:
    try:
        _service().claim(handoff_id, g.agent.id)
    except ClaimConflict as exc:
        detail = queries.handoff_detail(_url(), handoff_id)
        if detail is None:
            return _fail("no such conversation", 404)
        if not (detail["status"] == "assigned" and detail["agent_id"] == g.agent.id):
            return _fail(str(exc), 409)
    target = url_for("agent.conversation", handoff_id=handoff_id)
    if _wants_json():
        return jsonify({"ok": True, "url": target})
    return redirect(target, 303)


@agent_blueprint.post("/tickets/<int:handoff_id>/promise-kept")
def promise_kept(handoff_id: int) -> Any:
    if not _service().keep_promise(handoff_id, g.agent.id):
        return _fail("there is no open promise on this ticket", 404)
    if _wants_json():
        return jsonify({"ok": True})
    flash("Promise marked as kept.", "info")
    return redirect(url_for("agent.queue_page"), 303)


# --- one conversation -----------------------------------------------------------
@agent_blueprint.get("/handoffs/<int:handoff_id>")
def conversation(handoff_id: int) -> Any:
    detail = _handoff_or_404(handoff_id)
    url = _url()
    messages = queries.conversation_messages(url, detail["conversation_id"])
    order = queries.order_summary(url, detail["context"]["verified_order"])
    emails = queries.customer_emails(detail, order)
    return render_template(
        "agent/conversation.html",
        agent=g.agent,
        handoff=detail,
        timeline=queries.timeline(messages, detail["context"]["transcript"]),
        last_message_id=max((m["id"] for m in messages), default=0),
        notes=queries.notes(url, handoff_id),
        order=order,
        emails=sorted(emails),
        history=queries.customer_history(url, detail, emails),
        mine=detail["status"] == "assigned" and detail["agent_id"] == g.agent.id,
        languages=LANGUAGES,
    )


@agent_blueprint.get("/handoffs/<int:handoff_id>/events")
def events(handoff_id: int) -> Any:
    """Long-poll: messages after ``after`` (any sender), waiting up to ``wait`` seconds."""
    try:
        after = _bounded_number("after", 0, 2**53)
        wait = _bounded_number("wait", 0, MAX_WAIT_SECONDS)
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    known_status = request.args.get("status")
    agents.touch(_url(), g.agent.id)
    service = _service()
    deadline = time.monotonic() + wait
    while True:
        state = queries.handoff_state(service.url, handoff_id)
        if state is None:
            return jsonify({"error": "no such conversation"}), 404
        found = _messages().after(state["conversation_id"], int(after))
        changed = known_status is not None and known_status != state["status"]
        if found or changed or time.monotonic() >= deadline:
            state.pop("conversation_id")
            return jsonify({**state, "messages": found})
        time.sleep(POLL_STEP_SECONDS)


@agent_blueprint.post("/handoffs/<int:handoff_id>/messages")
def send_message(handoff_id: int) -> Any:
    """JSON {text} from the console's script; a plain form post works too."""
    back = url_for("agent.conversation", handoff_id=handoff_id)
    text = _text_field()
    if text is None:
        return _fail("the message is empty", 400, back)
    limit = current_app.extensions["settings"].limits.max_message_chars
    if len(text) > limit:
        return _fail(f"the message is too long (at most {limit} characters)", 413, back)
    try:
        message = _service().agent_reply(handoff_id, g.agent, text)
    except ClaimConflict as exc:
        return _fail(str(exc), 409, back)
    if _wants_json():
        return jsonify({"message": message})
    return redirect(back, 303)


@agent_blueprint.post("/handoffs/<int:handoff_id>/notes")
def add_note(handoff_id: int) -> Any:
    _handoff_or_404(handoff_id)
    back = url_for("agent.conversation", handoff_id=handoff_id) + "#notes"
    text = _text_field()
    if text is None:
        return _fail("the note is empty", 400, back)
    if len(text) > 4000:
        return _fail("the note is too long (at most 4000 characters)", 413, back)
    _service().add_note(handoff_id, g.agent.id, text)
    if _wants_json():
        return jsonify(
            {
                "ok": True,
                "notes": [
                    {**n, "created_at": queries.iso(n["created_at"])}
                    for n in queries.notes(_url(), handoff_id)
                ],
            }
        )
    return redirect(back, 303)


@agent_blueprint.post("/handoffs/<int:handoff_id>/resolve")
def resolve(handoff_id: int) -> Any:
    service = _service()
    here = url_for("agent.conversation", handoff_id=handoff_id)
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


# --- canned answers -------------------------------------------------------------
@agent_blueprint.get("/kb/search")
def kb_search() -> Any:
    query = (request.args.get("q") or "").strip()
    lang = request.args.get("lang") or "en"
    if not query or len(query) > 200:
        return jsonify({"error": "type 1 to 200 characters to search"}), 400
    if lang not in LANGUAGES:
        lang = "en"
    try:
        kb = current_app.extensions["services"].knowledge_base
        results = queries.kb_suggestions(kb, query, lang)
    except Exception:
        log.exception("knowledge base search failed")
        return jsonify({"error": "the knowledge base is not available right now"}), 503
    return jsonify({"results": results, "lang": lang})
