"""Customer chat API used by the widget.

The session id is a random bearer token the gateway issues; it is the only
thing that links a browser to its conversation, so it is never guessable.
Every message is stored before it is relayed, so nothing is lost when Rasa
restarts: it stays pending, the widget is told the assistant is reconnecting,
and the relay delivers it (once) when Rasa is back and pushes the answer. The
widget's client_id makes retries idempotent.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, jsonify, request

from bot.attachments import AttachmentRefused
from bot.handoff.texts import text as customer_text
from bot.handoff.tickets import take_contact_email
from bot.messages.log import SessionStatus
from bot.metrics import MESSAGE_LATENCY
from bot.rasa.client import RasaUnavailable
from bot.shop.security import extract_email
from bot.web import attachments as web_files
from bot.web.live_connections import close_conversation_connections

if TYPE_CHECKING:
    from bot.composition import Services
    from bot.messages.relay import Relay

log = logging.getLogger(__name__)
chat_blueprint = Blueprint("chat", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLL_STEP_SECONDS = 1.0  # the long-poll fallback only; pushed clients never poll
MAX_POLL_SECONDS = 25.0
FEEDBACK_COMMENT_CHARS = 500


def _error(message: str, status: int) -> Any:
    return jsonify({"error": message}), status


class ApiError(Exception):
    """A refused request: the message tells the widget (and a developer) what to fix."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@chat_blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return _error(exc.message, exc.status)


def _services() -> Services:
    return current_app.extensions["services"]


def _relay() -> Relay:
    return current_app.extensions["relay"]


def _session_id(value: Any) -> str | None:
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


SESSION_REFUSED = {
    SessionStatus.UNKNOWN: ("unknown session; start a new one with POST /api/session", 404),
    SessionStatus.EXPIRED: (
        "this chat ended after a long pause; start a new one with POST /api/session",
        410,
    ),
    SessionStatus.ENDED: ("this chat was ended; start a new one with POST /api/session", 410),
}


def _known_session(value: Any) -> str:
    """A session id this gateway issued, still in use, or an ApiError."""
    session_id = _session_id(value)
    if session_id is None:
        raise ApiError("missing or invalid session_id; get one from POST /api/session")
    status = session_status(_services(), session_id)
    if status is not SessionStatus.ACTIVE:
        raise ApiError(*SESSION_REFUSED[status])
    return session_id


def session_status(services: Services, session_id: str) -> SessionStatus:
    idle = timedelta(minutes=services.settings.sessions.idle_minutes)
    return services.messages.session_status(session_id, idle)


def _json_object(shape: str) -> dict[str, Any]:
    payload = request.get_json(silent=True)  # too deep or not UTF-8: None (see bot.web.app)
    if not isinstance(payload, dict):
        raise ApiError(f"send JSON: {{{shape}}}")
    return payload


def _customer_text(value: Any, name: str, max_chars: int) -> str:
    """Text a customer typed, or an ApiError that says what is wrong with it."""
    if not isinstance(value, str):
        raise ApiError(f"{name} must be text")
    if len(value) > max_chars:
        raise ApiError(f"the {name} is too long (at most {max_chars} characters)", 413)
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ApiError(f"the {name} contains invalid characters (lone UTF-16 surrogates)")
    if "\x00" in value:
        raise ApiError(f"the {name} contains a NUL character")
    return value.strip()


def _finite_number(name: str, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(f"{name} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(f"{name} must be a number from {low:g} to {high:g}")
    return value


RELAY_PENDING = {
    "status": "pending",
    "notice": "The assistant is reconnecting. Your message is saved and will be answered shortly.",
}


@chat_blueprint.post("/session")
def new_session() -> Any:
    if not _services().limits.sessions_per_address.allow(request.remote_addr or "?"):
        return _error("too many new chats from this address; please wait a moment", 429)
    return jsonify({"session_id": _services().messages.open_session()})


@chat_blueprint.post("/session/end")
def end_session() -> Any:
    """End chat: the id is refused from now on, so the next person at this browser starts afresh."""
    if not _services().limits.session_ends_per_address.allow(request.remote_addr or "?"):
        return _error("too many requests from this address; please wait a moment", 429)
    payload = _json_object("session_id")
    session_id = _session_id(payload.get("session_id"))
    if session_id is None:
        raise ApiError("missing or invalid session_id")
    if not _services().messages.end_session(session_id):
        raise ApiError(*SESSION_REFUSED[SessionStatus.UNKNOWN])
    close_conversation_connections(session_id)  # the widget's socket stops receiving this chat
    return jsonify({"ended": True})


@chat_blueprint.post("/chat")
def chat() -> Any:
    payload = _json_object("session_id, text, client_id")
    limits = _services().settings.limits
    text = _customer_text(payload.get("text"), "message", limits.max_message_chars)
    if not text:
        return _error("the message is empty", 400)
    client_id = payload.get("client_id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.match(client_id)):
        return _error("invalid client_id", 400)
    session_id = _known_session(payload.get("session_id"))
    rate = _services().limits
    address = request.remote_addr or "?"
    if not rate.chat_per_session.allow(session_id) or not rate.chat_per_address.allow(address):
        return _error("too many messages; please wait a moment", 429)

    log_ = _services().messages
    handoff = _services().handoff
    # the email we asked for after a timeout (asked only when mail can be sent)
    if extract_email(text) and _services().mail_delivered and handoff.awaiting_contact(session_id):
        message, created = log_.record(session_id, "customer", text, client_id=client_id)
        if created:
            take_contact_email(handoff, log_, session_id, text, log_.language(session_id))
        message.pop("relay")
        return jsonify({"messages": log_.after(session_id, message["id"] - 1), "mode": log_.mode(session_id)})
    meta: dict[str, Any] = {"client_ip": address}
    if text in log_.open_payloads(session_id):  # a button the bot offered and still waits on
        meta["command"] = True  # anything else the relay escapes (bot.messages.payloads)
    message, created = log_.record(session_id, "customer", text, client_id=client_id, meta=meta, for_bot=True)
    relay_state = message.pop("relay")
    if not created and relay_state in ("done", "none"):  # a retry of an answered message
        return jsonify({"messages": log_.after(session_id, message["id"] - 1), "mode": log_.mode(session_id)})
    if relay_state == "none":  # a person has the conversation
        if created:
            _services().handoff.customer_wrote(session_id)
        return jsonify({"messages": [message], "mode": log_.mode(session_id)})
    started = time.perf_counter()
    try:
        replies = _relay().deliver(session_id)
    except RasaUnavailable as exc:
        log.warning("rasa unavailable (%s); message kept for delivery", exc)
        return jsonify({"messages": [message], **RELAY_PENDING}), 202
    if not replies and log_.delivery_state(message["id"]) != "done":  # another request is delivering
        return jsonify({"messages": [message], "status": "pending"}), 202
    MESSAGE_LATENCY.labels("chat").observe(time.perf_counter() - started)
    return jsonify({"messages": [message, *replies], "mode": log_.mode(session_id)})


@chat_blueprint.get("/messages")
def messages() -> Any:
    """History, and a long-poll fallback: messages after ``after``; waits up to ``wait`` seconds."""
    session_id = _known_session(request.args.get("session_id"))
    after = int(_finite_number("after", 0, 0, 2**53))
    wait = _finite_number("wait", 0, 0, MAX_POLL_SECONDS)
    log_ = _services().messages
    deadline = time.monotonic() + wait
    while True:
        found = log_.after(session_id, after)
        if found or time.monotonic() >= deadline:
            return jsonify({"messages": found, "mode": log_.mode(session_id)})
        time.sleep(POLL_STEP_SECONDS)


@chat_blueprint.post("/feedback")
def feedback() -> Any:
    """The optional comment (and rating) after a conversation with an agent ends."""
    payload = _json_object("session_id, rating, comment")
    session_id = _known_session(payload.get("session_id"))
    rating, comment = payload.get("rating"), payload.get("comment")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        return _error("rating must be a whole number from 1 to 5", 400)
    if comment is not None:
        comment = _customer_text(comment, "comment", 2000)
    if not _services().handoff.record_csat(session_id, rating, comment):
        return _error("there is no finished conversation with a person to rate", 404)
    return jsonify({"ok": True})


@chat_blueprint.post("/faq-feedback")
def faq_feedback() -> Any:
    """Was this FAQ answer helpful? {session_id, message_id, helpful, comment?}; a second vote replaces the first."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError("send JSON: {session_id, message_id, helpful, comment}")
    session_id = _known_session(payload.get("session_id"))
    message_id, helpful, comment = payload.get("message_id"), payload.get("helpful"), payload.get("comment")
    if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id < 1:
        return _error("message_id must be the id of an FAQ answer", 400)
    if not isinstance(helpful, bool):
        return _error("helpful must be true or false", 400)
    if comment is not None and (not isinstance(comment, str) or len(comment) > FEEDBACK_COMMENT_CHARS):
        return _error(f"comment must be text of at most {FEEDBACK_COMMENT_CHARS} characters", 400)
    if not _services().limits.faq_feedback.allow(session_id):
        return _error("too many votes; please wait a moment", 429)
    recorded = _services().analytics.record_feedback(
        session_id, message_id, helpful, (comment or "").strip() or None
    )
    if recorded is None:
        return _error("that message is not an FAQ answer in this conversation", 404)
    return jsonify({"ok": True, **recorded})


# --- attachments ---------------------------------------------------------------------
REQUEST_HUMAN = "/request_human"
UI_LANGUAGES = ("en", "ru", "sk", "hu")


@chat_blueprint.post("/attachments")
def upload_attachment() -> Any:
    """A photo or PDF from the customer: multipart/form-data {session_id, client_id, file, lang}.

    Never relayed to the bot as text. With a person on the conversation it reaches them like a
    message; with the bot, the bot says honestly that it can't look at it and offers a person.
    """
    session_id = _known_session(request.form.get("session_id"))
    client_id = request.form.get("client_id")
    if client_id is not None and not CLIENT_ID.match(client_id):
        return _error("invalid client_id", 400)
    services = _services()
    log_ = services.messages
    if client_id:  # a retry of an upload that was stored
        existing = log_.by_client_id(session_id, client_id)
        if existing is not None:
            return jsonify({"messages": log_.after(session_id, existing["id"] - 1), "mode": log_.mode(session_id)})
    address = request.remote_addr or "?"
    if not services.limits.uploads_per_session.allow(session_id) or not services.limits.uploads_per_address.allow(
        address
    ):
        return _error("too many files; please wait a moment", 429)
    try:
        data, filename = web_files.uploaded_file()
        stored = services.attachments.accept(session_id, data, filename, uploaded_by="customer")
    except AttachmentRefused as exc:
        log.info("customer attachment refused: %s (%d bytes)", exc.reason, request.content_length or 0)
        return web_files.refusal_response(exc)
    # Before the customer has written a word, the widget's language is the best guess of theirs.
    hint = request.form.get("lang")
    known = log_.has_customer_text(session_id) or hint not in UI_LANGUAGES
    language = log_.language(session_id) if known else str(hint)
    message, _ = log_.record(session_id, "customer", "", client_id=client_id, attachment_id=stored.id)
    message.pop("relay", None)
    mode = log_.mode(session_id)
    replies: list[dict[str, Any]] = []
    if mode == "handoff":
        services.handoff.customer_wrote(session_id)
    else:
        reply, _ = log_.record(
            session_id,
            "bot",
            customer_text("attachment_for_bot", language),
            buttons=[{"title": customer_text("attachment_for_bot_button", language), "payload": REQUEST_HUMAN}],
        )
        reply.pop("relay", None)
        replies.append(reply)
    return jsonify({"messages": [message, *replies], "mode": mode})


@chat_blueprint.get("/attachments/<token>")
def attachment(token: str) -> Any:
    """A file of this customer's own conversation (the session id proves whose it is), else 404."""
    if not web_files.TOKEN.match(token):
        abort(404)
    session_id = _known_session(request.args.get("session_id"))
    content = _services().attachments.content(token)
    if content is None or not hmac.compare_digest(content.conversation_id, session_id):
        abort(404)
    return web_files.serve(content)
