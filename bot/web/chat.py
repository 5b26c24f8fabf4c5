"""Customer chat API used by the widget.

The session id is a random bearer token the gateway issues; it is the only
thing that links a browser to its conversation, so it is never guessable.
Every message is stored before it is relayed, so nothing is lost when Rasa
restarts: it stays pending, the widget is told the assistant is reconnecting,
and the relay delivers it (once) when Rasa is back and pushes the answer. The
widget's client_id makes retries idempotent.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, jsonify, request

from bot.web.rasa_client import RasaUnavailable

if TYPE_CHECKING:
    from bot.composition import Services
    from bot.messages.relay import Relay

log = logging.getLogger(__name__)
chat_blueprint = Blueprint("chat", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLL_STEP_SECONDS = 1.0  # the long-poll fallback only; pushed clients never poll
MAX_POLL_SECONDS = 25.0


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


def _known_session(value: Any) -> str:
    """A session id this gateway issued, or an ApiError."""
    session_id = _session_id(value)
    if session_id is None:
        raise ApiError("missing or invalid session_id; get one from POST /api/session")
    if not _services().messages.session_exists(session_id):
        raise ApiError("unknown session; start a new one with POST /api/session", 404)
    return session_id


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
    return jsonify({"session_id": _services().messages.open_session()})


@chat_blueprint.post("/chat")
def chat() -> Any:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError("send JSON: {session_id, text, client_id}")
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error("the message is empty", 400)
    limits = _services().settings.limits
    if len(text) > limits.max_message_chars:
        return _error(f"the message is too long (at most {limits.max_message_chars} characters)", 413)
    client_id = payload.get("client_id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.match(client_id)):
        return _error("invalid client_id", 400)
    session_id = _known_session(payload.get("session_id"))
    rate = _services().limits
    address = request.remote_addr or "?"
    if not rate.chat_per_session.allow(session_id) or not rate.chat_per_address.allow(address):
        return _error("too many messages; please wait a moment", 429)

    log_ = _services().messages
    message, created = log_.record(
        session_id, "customer", text.strip(), client_id=client_id, meta={"client_ip": address}, for_bot=True
    )
    relay_state = message.pop("relay")
    if not created and relay_state in ("done", "none"):  # a retry of an answered message
        return jsonify({"messages": log_.after(session_id, message["id"] - 1), "mode": log_.mode(session_id)})
    if relay_state == "none":  # a person has the conversation
        return jsonify({"messages": [message], "mode": log_.mode(session_id)})
    try:
        replies = _relay().deliver(session_id)
    except RasaUnavailable as exc:
        log.warning("rasa unavailable (%s); message kept for delivery", exc)
        return jsonify({"messages": [message], **RELAY_PENDING}), 202
    if not replies and log_.delivery_state(message["id"]) != "done":  # another request is delivering
        return jsonify({"messages": [message], "status": "pending"}), 202
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
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError("send JSON: {session_id, rating, comment}")
    session_id = _known_session(payload.get("session_id"))
    rating, comment = payload.get("rating"), payload.get("comment")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        return _error("rating must be a whole number from 1 to 5", 400)
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        return _error("comment must be text of at most 2000 characters", 400)
    if not _services().handoff.record_csat(session_id, rating, comment):
        return _error("there is no finished conversation with a person to rate", 404)
    return jsonify({"ok": True})
