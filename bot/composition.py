"""The composition root: ``build_services(settings)`` wires every long-lived service.

The gateway builds its services once and hands them to ``create_app(services)``;
tests build their own. The action server (loaded by rasa-sdk, which has no
dependency injection) uses the process's default services through ``services()``;
tests install theirs with ``use_services``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from bot.analytics.events import EventLog
from bot.db import init_db
from bot.handoff.limits import HandoffLimiter
from bot.handoff.service import HandoffService
from bot.kb.factory import knowledge_base_from
from bot.kb.service import KnowledgeBase
from bot.messages.bus import MessageBus, NullBus, redis_emitter_bus
from bot.messages.log import MessageLog
from bot.privacy import PrivacyService, RasaTrackerStore
from bot.routing import Router
from bot.secret import app_secret
from bot.settings import Settings, load_settings
from bot.shop.store import ShopStore, SqlShopStore
from bot.shop.verification import VerificationGuard
from bot.web.rasa_client import RasaClient
from bot.web.ratelimit import RateLimits


@dataclass
class Services:
    settings: Settings
    secret: bytes
    database_url: str
    messages: MessageLog
    handoff: HandoffService
    shop: ShopStore
    rasa: RasaClient
    limits: RateLimits
    verification: VerificationGuard
    handoff_limits: HandoffLimiter
    privacy: PrivacyService
    analytics: EventLog
    _kb: KnowledgeBase | None = field(default=None, repr=False)
    _router: Router | None = field(default=None, repr=False)
    _kb_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """Loaded on first use: embedding the FAQ takes a second or two."""
        with self._kb_lock:
            if self._kb is None:
                kb = knowledge_base_from(self.settings)
                kb.load()
                kb.start_watching(self.settings.kb_reload_interval)
                self._kb = kb
            return self._kb

    @property
    def knowledge_base_loaded(self) -> KnowledgeBase | None:
        return self._kb

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router(self.knowledge_base, self.settings.routing)
        return self._router

    def close(self) -> None:
        if self._kb is not None:
            self._kb.stop_watching()


def build_services(settings: Settings, bus: MessageBus | None = None) -> Services:
    url = settings.database_url
    init_db(url)
    secret = app_secret(settings.secret_key_file, settings.secret_key)
    limits = settings.limits
    if bus is None:  # processes without sockets still reach the gateways' consoles via Redis
        redis_url = settings.realtime.redis_url
        bus = redis_emitter_bus(redis_url, settings.realtime.channel) if redis_url else NullBus()
    messages = MessageLog(url, bus)
    shop = SqlShopStore(
        url,
        secret,
        resets_per_email_per_hour=limits.password_resets_per_email_per_hour,
        resets_per_session_per_hour=limits.password_resets_per_session_per_hour,
    )
    return Services(
        settings=settings,
        secret=secret,
        database_url=url,
        messages=messages,
        handoff=HandoffService(url, settings.handoff, messages),
        shop=shop,
        rasa=RasaClient(settings.rasa_urls, token=settings.rasa_token or None),
        limits=RateLimits.from_settings(settings),
        verification=VerificationGuard(url, secret, shop, settings.verification),
        handoff_limits=HandoffLimiter(
            url,
            secret,
            per_client=limits.handoffs_per_client_per_hour,
            per_session=limits.handoffs_per_session_per_hour,
        ),
        privacy=PrivacyService(
            url,
            RasaTrackerStore(settings.tracker_store_url),
            settings.privacy,
            verification_window=timedelta(minutes=settings.verification.window_minutes),
        ),
        analytics=EventLog(url),
    )


# --- the action server's process-wide services ------------------------------------
_default: Services | None = None
_default_lock = threading.Lock()


def services() -> Services:
    global _default
    with _default_lock:
        if _default is None:
            _default = build_services(load_settings())
        return _default


def use_services(installed: Services | None) -> None:
    """Install (or with None, drop) this process's services; for tests and tools."""
    global _default
    with _default_lock:
        _default = installed


# Accessors the actions use; each is one attribute of the process's services.
def knowledge_base() -> KnowledgeBase:
    return services().knowledge_base


def router() -> Router:
    return services().router


def database_url() -> str:
    return services().database_url


def secret() -> bytes:
    return services().secret


def shop_store() -> ShopStore:
    return services().shop


def handoff_service() -> HandoffService:
    return services().handoff


def message_log() -> MessageLog:
    return services().messages


def verification_guard() -> VerificationGuard:
    return services().verification


def handoff_limiter() -> HandoffLimiter:
    return services().handoff_limits


def privacy_service() -> PrivacyService:
    return services().privacy
def analytics() -> EventLog:
    return services().analytics
