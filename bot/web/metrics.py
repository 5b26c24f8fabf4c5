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


class SharedStateCollector(Collector):
    """Figures read at scrape time from the database and this process's FAQ index."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[Any]:
        with session_scope(self.services.database_url) as session:
            rows = session.execute(
                select(Handoff.reason, Handoff.status, func.count()).group_by(Handoff.reason, Handoff.status)
            ).all()
        handoffs = CounterMetricFamily(
            "voltmart_handoffs",
            "Handoffs ever started, by reason and current status.",
            labels=["reason", "status"],
        )
        queue = 0
        tickets = 0
        for reason, status, count in rows:
            handoffs.add_metric([reason, status], count)
            queue += count if status == "queued" else 0
            tickets += count if status == "ticket" else 0
        yield handoffs
        yield GaugeMetricFamily(
            "voltmart_handoff_queue_length", "Handoffs waiting for an agent.", value=queue
        )
        yield GaugeMetricFamily(
            "voltmart_handoff_tickets", "Offline tickets (answered by email).", value=tickets
        )
        kb = self.services.knowledge_base_loaded
        status = kb.status() if kb is not None else None
        yield GaugeMetricFamily(
            "voltmart_faq_index_loaded",
            "1 when this process has loaded the FAQ index.",
            value=1 if status else 0,
        )
        if status is not None:
            yield GaugeMetricFamily(
                "voltmart_faq_index_entries", "FAQ entries being served.", value=status.entries
            )
            yield GaugeMetricFamily(
                "voltmart_faq_index_ok",
                "1 when the FAQ files are valid and live.",
                value=1 if status.ok else 0,
            )
            yield GaugeMetricFamily(
                "voltmart_faq_index_serving_last_good",
                "1 when a rejected change left the last good index serving.",
                value=1 if status.serving_last_good else 0,
            )
            yield GaugeMetricFamily(
                "voltmart_faq_index_built_timestamp_seconds",
                "When the live index was built.",
                value=status.loaded_at,
            )


def _allowed() -> bool:
    token = current_app.extensions["settings"].metrics_token
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    # Without a token only a scraper on this machine, and not through a proxy that forwards clients.
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


@metrics_blueprint.get("/metrics")
def metrics() -> Any:
    if not _allowed():
        return jsonify(
            {"error": "metrics are not public: scrape from localhost or send the METRICS_TOKEN"}
        ), 403
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector(current_app.extensions["services"]))
    return Response(generate_latest(REGISTRY) + generate_latest(shared), mimetype=CONTENT_TYPE_LATEST)
