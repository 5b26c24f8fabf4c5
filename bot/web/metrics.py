"""GET /metrics for Prometheus; not public: a bearer token from settings, or localhost only."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.db import session_scope
from bot.handoff.models import Handoff
from bot.metrics import REGISTRY

metrics_blueprint = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}
# Any of these means a proxy passed the request on: its client is not this machine's scraper.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto", "Via")


class SharedStateCollector(Collector):
    """Figures read at scrape time from the database and this process's FAQ index."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[Any]:
        with session_scope(self.services.database_url) as session:
            rows = session.execute(
                select(Handoff.reason, Handoff.status, func.count()).group_by(Handoff.reason, Handoff.status)
            ).all()
            tickets_open = session.scalar(
                select(func.count()).where(Handoff.status == "ticket", Handoff.promise_kept_at.is_(None))
            )
        # Started handoffs only grow (a privacy purge that deletes old rows reads as a counter reset).
        started = CounterMetricFamily("support_handoffs", "Handoffs started, by reason.", labels=["reason"])
        by_reason: dict[str, int] = {}
        by_status: dict[str, int] = {"queued": 0, "assigned": 0, "ticket": int(tickets_open or 0)}
        for reason, status, count in rows:
            by_reason[reason] = by_reason.get(reason, 0) + count
            if status in ("queued", "assigned"):
                by_status[status] += count
        for reason, count in sorted(by_reason.items()):
            started.add_metric([reason], count)
        yield started
        open_now = GaugeMetricFamily(
            "support_handoffs_open",
            "Handoffs not yet resolved (tickets: promise not yet kept), by status.",
            labels=["status"],
        )
        for status, count in by_status.items():
            open_now.add_metric([status], count)
        yield open_now
        yield GaugeMetricFamily(
            "support_handoff_queue_length", "Handoffs waiting for an agent.", value=by_status["queued"]
        )
        kb = self.services.knowledge_base_loaded
        status = kb.status() if kb is not None else None
        yield GaugeMetricFamily(
            "support_faq_index_loaded",
            "1 when this process has loaded the FAQ index.",
            value=1 if status else 0,
        )
        if status is not None:
            yield GaugeMetricFamily(
                "support_faq_index_entries", "FAQ entries being served.", value=status.entries
            )
            yield GaugeMetricFamily(
                "support_faq_index_ok",
                "1 when the FAQ files are valid and live.",
                value=1 if status.ok else 0,
            )
            yield GaugeMetricFamily(
                "support_faq_index_serving_last_good",
                "1 when a rejected change left the last good index serving.",
                value=1 if status.serving_last_good else 0,
            )
            yield GaugeMetricFamily(
                "support_faq_index_built_timestamp_seconds",
                "When the live index was built.",
                value=status.loaded_at,
            )


def _allowed() -> bool:
    token = current_app.extensions["settings"].metrics_token
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    # Without a token only a scraper on this machine, and not through a proxy that forwards clients.
    return request.remote_addr in LOOPBACK and not any(h in request.headers for h in PROXY_HEADERS)


@metrics_blueprint.get("/metrics")
def metrics() -> Any:
    if not _allowed():
        return jsonify(
            {"error": "metrics are not public: scrape from localhost or send the METRICS_TOKEN"}
        ), 403
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector(current_app.extensions["services"]))
    return Response(generate_latest(REGISTRY) + generate_latest(shared), mimetype=CONTENT_TYPE_LATEST)
