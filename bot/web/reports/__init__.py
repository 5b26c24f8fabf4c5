"""Supervisor pages of the console: reports, unanswered questions (gaps) and agent management."""

from __future__ import annotations

from bot.web.reports import content, gaps, outbox, privacy, team, views  # noqa: F401  (register the routes)
from bot.web.reports.blueprint import reports_blueprint

__all__ = ["reports_blueprint"]
