"""Supervisor pages of the console: reports, unanswered questions (gaps) and agent management."""

from __future__ import annotations

from flask import Blueprint

reports_blueprint = Blueprint("reports", __name__, url_prefix="/agent")

from bot.web.reports import gaps, privacy, team, views  # noqa: E402, F401  (register the routes)
