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
FEEDBACK_PER_MINUTE = 20  # thumbs votes per conversation


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
    sessions_per_address: RateLimiter
    faq_feedback: RateLimiter
    session_ends_per_address: RateLimiter
    socket_connects_per_address: RateLimiter
    kb_searches_per_agent: RateLimiter
    long_reports_per_agent: RateLimiter
    channel_per_thread: RateLimiter  # a Telegram chat, a mail sender
    uploads_per_session: RateLimiter
    uploads_per_address: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        redis_url = settings.realtime.redis_url
        backend = storage.storage_from_string(redis_url if redis_url else "memory://")
        limits = settings.limits
        per_minute = limits.chat_messages_per_minute
        uploads = settings.attachments.uploads_per_minute
        return cls(
            chat_per_session=RateLimiter(per_minute, 60, backend, "chat-session"),
            chat_per_address=RateLimiter(per_minute * 10, 60, backend, "chat-address"),
            login_failures=RateLimiter(LOGIN_FAILURES, LOGIN_WINDOW_SECONDS, backend, "login-failures"),
            sessions_per_address=RateLimiter(
                settings.limits.sessions_per_client_per_minute, 60, backend, "sessions-address"
            ),
            faq_feedback=RateLimiter(FEEDBACK_PER_MINUTE, 60, backend, "faq-feedback"),
            session_ends_per_address=RateLimiter(
                limits.session_ends_per_client_per_minute, 60, backend, "session-ends-address"
            ),
            socket_connects_per_address=RateLimiter(
                limits.socket_connects_per_client_per_minute, 60, backend, "socket-connects-address"
            ),
            kb_searches_per_agent=RateLimiter(limits.kb_searches_per_agent_per_minute, 60, backend, "kb-search-agent"),
            long_reports_per_agent=RateLimiter(
                limits.long_reports_per_agent_per_minute, 60, backend, "long-reports-agent"
            ),
            channel_per_thread=RateLimiter(settings.limits.channel_messages_per_minute, 60, backend, "channel-thread"),
            uploads_per_session=RateLimiter(uploads, 60, backend, "uploads-session"),
            uploads_per_address=RateLimiter(uploads * 10, 60, backend, "uploads-address"),
        )
