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
from bot.attachments import AttachmentStore
from bot.channels.base import ChannelAdapter
from bot.channels.outbound import OutboundDispatcher
from bot.channels.registry import build_adapters
from bot.handoff.limits import HandoffLimiter
from bot.handoff.service import HandoffService
from bot.kb.factory import knowledge_base_from
from bot.kb.service import KnowledgeBase
from bot.messages.bus import MessageBus, NullBus, redis_emitter_bus
from bot.messages.log import MessageLog
from bot.messages.models import Channel
from bot.migrations import init_db
from bot.privacy import PrivacyService, RasaTrackerStore
from bot.profile.model import ShopProfile
from bot.rasa.client import RasaClient
from bot.ratelimit import RateLimits
from bot.routing import Router
from bot.secret import app_secret
from bot.settings import OrderSystemKind, Settings, load_settings
from bot.shop.adapters.json_http import JsonHttpStore
from bot.shop.adapters.woocommerce import WooCommerceStore
from bot.shop.mailer import deliver_outbox
from bot.shop.policy import ReturnPolicy
from bot.shop.store import ShopStore, SqlShopStore
from bot.shop.verification import VerificationGuard


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
    # Channels other than the widget (bot.channels), and what sends their replies.
    channels: dict[Channel, ChannelAdapter]
    outbound: OutboundDispatcher
    attachments: AttachmentStore
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
    def mail_delivered(self) -> bool:
        """True when mail really leaves (SMTP is configured); the bot promises mail only then."""
        return self.settings.smtp is not None

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
    messages = MessageLog(url, bus, shop=settings.shop)
    channels = build_adapters(settings)
    outbound = OutboundDispatcher(url, channels, stale_after=settings.realtime.relay_stale_seconds)
    if channels:  # a reply stored in this process goes out at once; the gateway's sweep retries
        messages.on_outbound = outbound.kick
    shop = shop_store_from(settings, url, secret)
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
        channels=channels,
        outbound=outbound,
        attachments=AttachmentStore(url, settings.attachments),
    )


def shop_store_from(settings: Settings, url: str, secret: bytes) -> ShopStore:
    """The order system ORDER_SYSTEM names; the demo shop unless configured otherwise."""
    orders = settings.order_system
    if orders.kind is OrderSystemKind.WOOCOMMERCE:
        return WooCommerceStore(
            orders.url,
            orders.key,
            orders.secret,
            timeout=orders.timeout_seconds,
            retries=orders.retries,
            password_reset_page=orders.password_reset_page or None,
            policy=ReturnPolicy.of(settings.shop),
        )
    if orders.kind is OrderSystemKind.JSON_HTTP:
        return JsonHttpStore(
            orders.url,
            orders.secret,
            timeout=orders.timeout_seconds,
            retries=orders.retries,
            password_reset_page=orders.password_reset_page or None,
            policy=ReturnPolicy.of(settings.shop),
        )
    limits = settings.limits
    return SqlShopStore(
        url,
        secret,
        resets_per_email_per_hour=limits.password_resets_per_email_per_hour,
        resets_per_session_per_hour=limits.password_resets_per_session_per_hour,
        mail_delivered=settings.smtp is not None,
        profile=settings.shop,
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


def get_settings() -> Settings:
    """The settings of this process's services."""
    return services().settings


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


def shop_profile() -> ShopProfile:
    return services().settings.shop


def return_policy() -> ReturnPolicy:
    return ReturnPolicy.of(services().settings.shop)


def mail_delivered() -> bool:
    return services().mail_delivered


def send_mail_now() -> int:
    """Sends the outbox now, shop facts filled in; the worker retries what fails."""
    built = services()
    return deliver_outbox(built.database_url, built.settings.smtp, built.secret, shop=built.settings.shop)


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
