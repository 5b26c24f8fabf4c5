"""GET /health: the state of Rasa, the action server, the database, the FAQ and mail.

The details (versions, dialect, model file, FAQ errors) are for operators: they
are shown to loopback callers and to those who send the X-Health-Token header.
Anyone else learns only "ok" or "down", enough for a load balancer.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

import requests
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from bot.db import get_engine
from bot.shop.mailer import mail_status

health_blueprint = Blueprint("health", __name__)


def _database(url: str) -> dict[str, Any]:
    try:
        with get_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "dialect": url.split(":", 1)[0]}
    except Exception as exc:
        return {"status": "down", "error": type(exc).__name__}


def _action_server(url: str) -> dict[str, Any]:
    try:
        response = requests.get(f"{url}/health", timeout=3)
        response.raise_for_status()
        return {"status": "ok"}
    except requests.RequestException as exc:
        return {"status": "down", "error": type(exc).__name__}


def _mail(settings: Any) -> dict[str, Any]:
    """"not_configured" without SMTP: the stack runs, but no mail reaches a customer."""
    try:
        status = mail_status(settings.database_url, settings.smtp, settings.dev_outbox)
    except Exception as exc:
        return {"status": "unknown", "error": type(exc).__name__}
    return {
        "status": "ok" if status.configured else "not_configured",
        "delivery": status.delivery.value,
        "queued": status.queued,
        "detail": status.describe(),
    }


def _may_see_details(token: str) -> bool:
    sent = request.headers.get("X-Health-Token", "")
    if token and sent and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@health_blueprint.get("/health")
def health() -> Any:
    settings = current_app.extensions["settings"]
    parts = {
        "rasa": current_app.extensions["rasa"].status(),
        "action_server": _action_server(settings.action_server_url),
        "database": _database(settings.database_url),
    }
    kb = current_app.extensions["services"].knowledge_base_loaded
    if kb is not None:
        parts["knowledge_base"] = kb.status().as_dict()
    parts["mail"] = _mail(settings)
    core_up = all(parts[name]["status"] == "ok" for name in ("rasa", "action_server", "database"))
    overall = "ok" if all(p["status"] == "ok" for p in parts.values()) else "degraded"
    # A content error degrades but keeps serving; only a dead core process fails the check.
    status = 200 if core_up else 503
    if not _may_see_details(settings.health_token):
        return jsonify({"status": "ok" if core_up else "down"}), status
    return jsonify({"status": overall, **parts}), status
