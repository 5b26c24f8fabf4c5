"""GET /health: the state of Rasa, the action server, the database and the FAQ."""

from __future__ import annotations

from typing import Any

import requests
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from bot.db import get_engine

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
    core_up = all(parts[name]["status"] == "ok" for name in ("rasa", "action_server", "database"))
    overall = "ok" if all(p["status"] == "ok" for p in parts.values()) else "degraded"
    # A content error degrades but keeps serving; only a dead core process fails the check.
    return jsonify({"status": overall, **parts}), 200 if core_up else 503
