"""Supervisors manage the console logins: add, disable or enable, reset a password."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for

from bot.handoff import agents
from bot.web.live_connections import close_agent_connections
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint


def _url() -> str:
    return current_app.extensions["services"].database_url


def _back() -> Any:
    return redirect(url_for("reports.team_page"), 303)


@reports_blueprint.get("/team")
@supervisor_required
def team_page() -> Any:
    return render_template(
        "reports/team.html",
        agent=g.agent,
        agents=agents.list_agents(_url()),
        roles=agents.ROLES,
        min_password=agents.MIN_PASSWORD_LENGTH,
    )


@reports_blueprint.post("/team")
@supervisor_required
def add_agent() -> Any:
    form = request.form
    try:
        agents.create_agent(
            _url(),
            (form.get("username") or "").strip(),
            form.get("password") or "",
            (form.get("display_name") or "").strip() or None,
            form.get("role") or "agent",
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template(
            "reports/team.html",
            agent=g.agent,
            agents=agents.list_agents(_url()),
            roles=agents.ROLES,
            min_password=agents.MIN_PASSWORD_LENGTH,
            form=form,
        ), 400
    flash(f"Agent {form.get('username')} added.", "info")
    return _back()


@reports_blueprint.post("/team/<int:agent_id>/disable")
@supervisor_required
def disable_agent(agent_id: int) -> Any:
    disable = request.form.get("disabled", "1") == "1"
    if agent_id == g.agent.id and disable:
        flash("You cannot disable your own login.", "error")
        return _back()
    handoffs = current_app.extensions["handoff"]
    held = handoffs.conversations_held_by(agent_id) if disable else []
    if not agents.set_disabled(_url(), agent_id, disable):
        flash("No such agent.", "error")
        return _back()
    if disable:
        handoffs.queue_reshuffled()  # their conversations went back to the queue
        handoffs.tell_back_in_queue(held)  # and their customers are told so
        close_agent_connections(agent_id)  # their open consoles stop receiving pushes now
    flash("Login disabled." if disable else "Login enabled again.", "info")
    return _back()


@reports_blueprint.post("/team/<int:agent_id>/password")
@supervisor_required
def reset_agent_password(agent_id: int) -> Any:
    try:
        found = agents.reset_password(_url(), agent_id, request.form.get("password") or "")
    except ValueError as exc:
        flash(str(exc), "error")
        return _back()
    if found:
        close_agent_connections(agent_id)  # the old password's sessions ended: so do their sockets
    flash("Password changed." if found else "No such agent.", "info" if found else "error")
    return _back()
