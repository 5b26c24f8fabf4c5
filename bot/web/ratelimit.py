"""A small sliding-window rate limiter, per key, in process memory.

Enough for one gateway process; behind several processes put the limit in the
reverse proxy or Redis.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event for ``key``; False (and not counted) once the limit is reached."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._full(key, now):
                return False
            self._hits[key].append(now)
            self._forget_idle(now)
            return True

    def blocked(self, *keys: str) -> bool:
        """Whether any key is at its limit, without counting anything (e.g. failed logins)."""
        now = time.monotonic()
        with self._lock:
            return any(self._full(key, now) for key in keys)

    def record(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._hits[key].append(now)
            self._forget_idle(now)

    def _full(self, key: str, now: float) -> bool:
        hits = self._hits.get(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return bool(hits) and len(hits) >= self.limit

    def _forget_idle(self, now: float) -> None:
        if len(self._hits) > 100_000:  # forget idle keys rather than grow forever
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[stale]
