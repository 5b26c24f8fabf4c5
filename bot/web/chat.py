"""Customer chat API used by the widget.

The session id is a random bearer token the gateway issues; it is the only
thing that links a browser to its conversation, so it is never guessable.
Every message is stored before it is relayed, so nothing is lost when Rasa
restarts, and the widget's client_id makes retries idempotent.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from bot.handoff.service import HandoffService
from bot.web.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger(__name__)
chat_blueprint = Blueprint("chat", __name__, url_prefix="/api")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLL_STEP_SECONDS = 0.25
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


def _session_payload(fields: str) -> tuple[dict, str]:
    """The JSON body and its valid session id, or an ApiError."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(f"send JSON: {{{fields}}}")
    session_id = _session_id(payload.get("session_id"))
    if session_id is None:
        raise ApiError("missing or invalid session_id; get one from POST /api/session")
    return payload, session_id


def _handoff() -> HandoffService:
    return current_app.extensions["handoff"]


def _rasa() -> RasaClient:
    return current_app.extensions["rasa"]


def _session_id(value: Any) -> str | None:
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


def bot_messages_to_store(replies: list[dict]) -> list[dict[str, Any]]:
    """Rasa REST replies -> our message shape (text + buttons, nothing executable)."""
    stored = []
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
        text = reply.get("text") or str(custom.get("text") or "")
        buttons = [
            {"title": str(b.get("title", ""))[:80], "payload": str(b.get("payload", ""))[:200]}
            for b in reply.get("buttons") or []
            if isinstance(b, dict)
        ]
        if text or buttons:
            stored.append({"text": text, "buttons": buttons or None})
    return stored


@chat_blueprint.post("/session")
def new_session() -> Any:
    return jsonify({"session_id": secrets.token_urlsafe(24)})


@chat_blueprint.post("/chat")
def chat() -> Any:
    payload, session_id = _session_payload("session_id, text, client_id")
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error("the message is empty", 400)
    limits = current_app.extensions["settings"].limits
    if len(text) > limits.max_message_chars:
        return _error(f"the message is too long (at most {limits.max_message_chars} characters)", 413)
    client_id = payload.get("client_id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.match(client_id)):
        return _error("invalid client_id", 400)
    if not current_app.extensions["chat_limiter"].allow(session_id) or not current_app.extensions[
        "ip_limiter"
    ].allow(request.remote_addr or "?"):
        return _error("too many messages; please wait a moment", 429)

    text = text.strip()
    service = _handoff()
    message, created = service.record_message(session_id, "customer", text, client_id=client_id)
    if not created and _already_answered(service, session_id, message):
        return jsonify({"messages": service.messages_after(session_id, message["id"] - 1)})
    if service.conversation_mode(session_id) == "handoff":
        return jsonify({"messages": [message], "mode": "handoff"})
    try:
        if service.needs_rasa_resume(session_id):  # a resolve happened while Rasa was down
            _rasa().resume(session_id)
            service.mark_rasa_resumed(session_id)
        replies = _rasa().send(session_id, text)
    except RasaUnavailable as exc:
        log.warning("rasa unavailable: %s", exc)
        return jsonify(
            {
                "error": "The assistant is restarting. Your message is saved; please send it again in a moment.",
                "messages": [message],
            }
        ), 503
    out = [message]
    for reply in bot_messages_to_store(replies):
        stored, _ = service.record_message(session_id, "bot", reply["text"], buttons=reply["buttons"])
        out.append(stored)
    return jsonify({"messages": out, "mode": service.conversation_mode(session_id)})


def _already_answered(service: HandoffService, session_id: str, message: dict) -> bool:
    """A retried message counts as answered once anything came after it."""
    return bool(service.messages_after(session_id, message["id"], limit=1))


@chat_blueprint.get("/messages")
def messages() -> Any:
    """History and long-poll: messages after ``after``; waits up to ``wait`` seconds for new ones."""
    session_id = _session_id(request.args.get("session_id"))
    if session_id is None:
        return _error("missing or invalid session_id", 400)
    try:
        after = max(int(request.args.get("after", 0)), 0)
        wait = min(max(float(request.args.get("wait", 0)), 0.0), MAX_POLL_SECONDS)
    except ValueError:
        return _error("after and wait must be numbers", 400)
    service = _handoff()
    deadline = time.monotonic() + wait
    while True:
        found = service.messages_after(session_id, after)
        if found or time.monotonic() >= deadline:
            return jsonify({"messages": found, "mode": service.conversation_mode(session_id)})
        time.sleep(POLL_STEP_SECONDS)


@chat_blueprint.post("/feedback")
def feedback() -> Any:
    """The optional comment (and rating) after a conversation with an agent ends."""
    payload, session_id = _session_payload("session_id, rating, comment")
    rating, comment = payload.get("rating"), payload.get("comment")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        return _error("rating must be a whole number from 1 to 5", 400)
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        return _error("comment must be text of at most 2000 characters", 400)
    if not _handoff().record_csat(session_id, rating, comment):
        return _error("there is no finished conversation with a person to rate", 404)
    return jsonify({"ok": True})
