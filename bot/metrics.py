"""Prometheus metrics of this process (exposed by the gateway at /metrics, see bot.web.metrics).

Latencies are observed in the process that handles the message: with several
gateway processes, each exposes its own histograms (scrape every one). The
queue, handoff and FAQ figures are read from the shared database and the
loaded index at scrape time, so they agree across processes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

MESSAGE_LATENCY = Histogram(
    "support_message_latency_seconds",
    "Seconds from a customer message reaching the gateway to the reply (stage=chat), "
    "and of the Rasa round trip alone (stage=rasa).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
