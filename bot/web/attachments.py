"""Attachments on the web: upload size at the door, refusals as HTTP answers, and serving a file.

The domain (bot.attachments) decides what a file is; this module only turns that into
HTTP. Uploads get a larger body limit than the rest of the app (64 KiB), set before
anything reads the body (the console's CSRF check reads the form), and a request whose
Content-Length is over it is refused with a clear 413 without reading it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask, Response, jsonify, request, send_file

from bot.attachments import AttachmentRefused, Refusal
from bot.attachments.store import AttachmentContent

TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
FORM_OVERHEAD = 64 * 1024  # the multipart envelope and the other fields
UPLOAD_ENDPOINTS = {"chat.upload_attachment", "console.upload_attachment"}
# Nothing in a served file may run, load anything, or be framed.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"

REFUSAL_STATUS = {
    Refusal.EMPTY: 400,
    Refusal.TOO_LARGE: 413,
    Refusal.UNSUPPORTED: 415,
    Refusal.ACTIVE_CONTENT: 415,
    Refusal.UNREADABLE: 422,
    Refusal.TOO_MANY_PIXELS: 422,
    Refusal.CONVERSATION_COUNT: 409,
    Refusal.CONVERSATION_BYTES: 409,
}


def refusal_response(exc: AttachmentRefused) -> tuple[Response, int]:
    return jsonify({"error": exc.message, "reason": exc.reason.value}), REFUSAL_STATUS[exc.reason]


def too_large(max_bytes: int) -> AttachmentRefused:
    return AttachmentRefused(Refusal.TOO_LARGE, f"the file is too large (at most {max_bytes / (1024 * 1024):g} MB)")


def install_upload_limit(app: Flask, max_file_bytes: int) -> None:
    """Register before anything that reads a body (CSRF): uploads may be larger than other requests."""
    limit = max_file_bytes + FORM_OVERHEAD

    @app.before_request
    def upload_size() -> Any:
        if request.endpoint not in UPLOAD_ENDPOINTS:
            return None
        if request.content_length is not None and request.content_length > limit:
            return refusal_response(too_large(max_file_bytes))
        request.max_content_length = limit  # a chunked body is cut here (werkzeug's 413)
        return None


def uploaded_file() -> tuple[bytes, str]:
    """The bytes and the name of the form's ``file`` field, or AttachmentRefused."""
    upload = request.files.get("file")
    if upload is None:
        raise AttachmentRefused(Refusal.EMPTY, "send the file as the multipart/form-data field 'file'")
    return upload.stream.read(), upload.filename or ""


def serve(content: AttachmentContent) -> Response:
    """The file: an image inline, a PDF as a download; never sniffed, never run."""
    response = send_file(
        io.BytesIO(content.data),
        mimetype=content.content_type,
        as_attachment=content.kind != "image",
        download_name=content.filename,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = "private, no-store"
    # An <img> on the shop's own site (another origin) may show it; the URL is the secret.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
