"""Who may see the supervisor pages: the logged-in console agent, if their role is supervisor.

This module depends on the console's login only through
:func:`bot.web.console.auth.current_agent`: the same revocable, time-limited session
check as every console page (it also drops disabled agents).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, jsonify, redirect, render_template, request, session, url_for

from bot.web.console import auth
from bot.web.console.read_models import AgentView


def current_agent() -> AgentView | None:
    services = current_app.extensions["services"]
    return auth.current_agent(services.database_url, session, services.settings.console.session_hours)


def _wants_json() -> bool:
    return request.path.endswith((".json", ".csv")) or request.is_json


def supervisor_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Log in first (like the console), then 403 for agents who are not supervisors."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        agent = current_agent()
        if agent is None:
            if _wants_json():
                return jsonify({"error": "login required"}), 401
            if request.method != "GET":
                return redirect(url_for("console.login"), 303)
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        g.agent = agent
        if not agent.is_supervisor:
            if _wants_json():
                return jsonify({"error": "supervisors only"}), 403
            return render_template(
                "console/error.html", agent=agent, message="Only supervisors see this page."
            ), 403
        return view(*args, **kwargs)

    return wrapped
