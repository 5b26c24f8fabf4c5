"""Agent console (filled in by the handoff work)."""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
agent_blueprint = Blueprint("agent", __name__, url_prefix="/agent")
