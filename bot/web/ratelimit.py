"""Rate limits on the ``limits`` library: in process memory (embedded) or Redis (several nodes).

Moving windows, so a burst at a window's edge can't double the limit. With
Redis every gateway shares one count per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItemPerSecond, storage, strategies

from bot.settings import Settings

LOGIN_FAILURES = 5  # per client address and per login name ...
LOGIN_WINDOW_SECONDS = 300  # ... within five minutes


class RateLimiter:
    def __init__(self, limit: int, window_seconds: int, backend: storage.Storage, namespace: str) -> None:
        self.item = RateLimitItemPerSecond(limit, window_seconds, namespace=namespace)
        self._strategy = strategies.MovingWindowRateLimiter(backend)

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False (and not counted) once the limit is reached."""
        return self._strategy.hit(self.item, key)

    def blocked(self, *keys: str) -> bool:
        """Whether any key is at its limit, without counting anything (e.g. failed logins)."""
        return any(not self._strategy.test(self.item, key) for key in keys)

    def record(self, *keys: str) -> None:
        for key in keys:
            self._strategy.hit(self.item, key)

    def clear(self, *keys: str) -> None:
        """Forget the count (e.g. a supervisor unblocks a login)."""
        for key in keys:
            self._strategy.clear(self.item, key)


@dataclass(frozen=True)
class RateLimits:
    chat_per_session: RateLimiter
    chat_per_address: RateLimiter
    login_failures: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        redis_url = settings.realtime.redis_url
        backend = storage.storage_from_string(redis_url if redis_url else "memory://")
        per_minute = settings.limits.chat_messages_per_minute
        return cls(
            chat_per_session=RateLimiter(per_minute, 60, backend, "chat-session"),
            chat_per_address=RateLimiter(per_minute * 10, 60, backend, "chat-address"),
            login_failures=RateLimiter(LOGIN_FAILURES, LOGIN_WINDOW_SECONDS, backend, "login-failures"),
        )
