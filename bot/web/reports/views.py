"""The reports page, its JSON and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response, current_app, g, jsonify, render_template, request, session

from bot.analytics import figures
from bot.web.reports.auth import supervisor_required
from bot.web.reports.blueprint import reports_blueprint

DEFAULT_DAYS = 14
MAX_DAYS = 366
LONG_RANGE_DAYS = 31  # longer report ranges and gap windows are rate-limited per supervisor
RANGED_ENDPOINTS = {"reports.reports_page", "reports.reports_json", "reports.reports_csv"}
WINDOWED_ENDPOINTS = {"reports.gaps_page", "reports.gaps_json"}


class RangeError(ValueError):
    pass


def date_range() -> tuple[date, date]:
    """?start=YYYY-MM-DD&end=YYYY-MM-DD, both included; the last two weeks by default."""
    today = datetime.utcnow().date()
    try:
        end = date.fromisoformat(request.args["end"]) if request.args.get("end") else today
        start = (
            date.fromisoformat(request.args["start"])
            if request.args.get("start")
            else end - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError:
        raise RangeError("dates are written YYYY-MM-DD") from None
    if start > end:
        raise RangeError("the start date is after the end date")
    if (end - start).days >= MAX_DAYS:
        raise RangeError(f"a report covers at most {MAX_DAYS} days")
    return start, end


def _requested_days() -> int:
    if request.endpoint in RANGED_ENDPOINTS:
        try:
            start, end = date_range()
        except RangeError:
            return 0  # the view answers 400
        return (end - start).days + 1
    if request.endpoint in WINDOWED_ENDPOINTS:
        try:
            return int(request.args.get("days", "30"))
        except ValueError:
            return 0
    return 0


@reports_blueprint.before_request
def _limit_long_ranges() -> Any:
    """A year of figures reads many rows: a supervisor gets a few long ranges a minute."""
    agent_id = session.get("agent_id")
    if agent_id is None or _requested_days() <= LONG_RANGE_DAYS:
        return None  # short ranges are cheap; without a login the view refuses anyway
    limiter = current_app.extensions["services"].limits.long_reports_per_agent
    if limiter.allow(str(agent_id)):
        return None
    message = f"too many reports over {LONG_RANGE_DAYS} days in a minute; wait a moment"
    if request.path.endswith((".json", ".csv")):
        return jsonify({"error": message}), 429
    return render_template("console/error.html", message=message), 429


def _report() -> dict[str, Any]:
    start, end = date_range()
    return figures.report(current_app.extensions["services"].database_url, start, end)


@reports_blueprint.get("/reports")
@supervisor_required
def reports_page() -> Any:
    try:
        report = _report()
    except RangeError as exc:
        return render_template("console/error.html", agent=g.agent, message=str(exc)), 400
    return render_template("reports/reports.html", agent=g.agent, report=report)


@reports_blueprint.get("/reports.json")
@supervisor_required
def reports_json() -> Any:
    try:
        return jsonify(_report())
    except RangeError as exc:
        return jsonify({"error": str(exc)}), 400


def csv_rows(report: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report in long form: (scope, figure, value), one row per number."""
    rows: list[tuple[str, str, Any]] = []

    def add(scope: str, values: dict[str, Any], prefix: str = "") -> None:
        for key, value in values.items():
            if isinstance(value, dict):
                add(scope, value, f"{prefix}{key}.")
            elif isinstance(value, list):
                for item in value:
                    if "reason" in item:
                        rows.append((scope, f"{prefix}{key}.{item['reason']}", item["conversations"]))
            else:
                rows.append((scope, prefix + key, value))

    add("overall", report["overall"])
    for lang, values in report["by_language"].items():
        add(f"language:{lang}", values)
    for channel, values in report["by_channel"].items():
        add(f"channel:{channel}", values)
    for agent in report["csat_by_agent"]:
        add(f"agent:{agent['agent']}", {k: v for k, v in agent.items() if k != "agent"}, "csat.")
    for day in report["trend"]:
        add(f"day:{day['day']}", {k: v for k, v in day.items() if k != "day"})
    for entry in report["faq"]:
        add(f"faq:{entry['faq_id']}", {k: v for k, v in entry.items() if k != "faq_id"})
    return rows


@reports_blueprint.get("/reports.csv")
@supervisor_required
def reports_csv() -> Any:
    try:
        report = _report()
    except RangeError as exc:
        return jsonify({"error": str(exc)}), 400
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["scope", "figure", "value"])
    for scope, figure, value in csv_rows(report):
        # Scopes start with a word and a colon, so no cell reads as a spreadsheet formula.
        writer.writerow([scope, figure, "" if value is None else value])
    name = f"support-report-{report['start']}-{report['end']}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
