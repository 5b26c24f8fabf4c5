"""The console's side of attachments: an agent sends a photo or PDF, and opens the customer's.

Uploads are multipart posts with the CSRF token (X-CSRFToken header or csrf_token field), like
every console POST; only the agent who has the conversation may send into it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, g, jsonify, request

from bot.attachments import AttachmentRefused
from bot.handoff.service import ClaimConflict
from bot.messages.models import Channel
from bot.web import attachments as web_files
from bot.web.console.views import _fail, _here, _service, _text_problem, console_blueprint

log = logging.getLogger(__name__)


@console_blueprint.post("/handoffs/<int:handoff_id>/attachments")
def upload_attachment(handoff_id: int) -> Any:
    service = _service()
    try:
        conversation_id = service.assigned_conversation(handoff_id, g.agent.id)
    except ClaimConflict as exc:
        return _fail(str(exc), 409, _here(handoff_id))
    channel, _ = current_app.extensions["services"].messages.channel_of(conversation_id)
    if channel is not Channel.WIDGET:  # the channel adapters send text only, for now
        return _fail(f"this customer writes through {channel.value}: files can be sent only in the web chat", 409)
    caption = (request.form.get("text") or "").strip()
    if caption:
        problem = _text_problem(caption, "message")
        if problem is not None:
            return _fail(*problem, _here(handoff_id))
    store = current_app.extensions["services"].attachments
    try:
        data, filename = web_files.uploaded_file()
        stored = store.accept(conversation_id, data, filename, uploaded_by="agent")
    except AttachmentRefused as exc:
        log.info("agent attachment refused: %s (%d bytes)", exc.reason, request.content_length or 0)
        return web_files.refusal_response(exc)
    try:
        message = service.agent_reply(handoff_id, g.agent, caption, attachment_id=stored.id)
    except ClaimConflict as exc:  # transferred while uploading: the file stays with the conversation
        return _fail(str(exc), 409, _here(handoff_id))
    return jsonify({"ok": True, "message": message})


@console_blueprint.get("/attachments/<token>")
def attachment(token: str) -> Any:
    """Any signed-in agent (the login check runs before every console view)."""
    if not web_files.TOKEN.match(token):
        abort(404)
    content = current_app.extensions["services"].attachments.content(token)
    if content is None:
        abort(404)
    return web_files.serve(content)
