"""The composition root: every long-lived service is built here, once per process."""

from __future__ import annotations

import functools

from bot.db import init_db
from bot.handoff.service import HandoffService
from bot.kb.factory import knowledge_base_from
from bot.kb.service import KnowledgeBase
from bot.routing import Router
from bot.secret import app_secret
from bot.settings import get_settings
from bot.shop.store import ShopStore, SqlShopStore


@functools.lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    settings = get_settings()
    kb = knowledge_base_from(settings)
    kb.load()
    kb.start_watching(settings.kb_reload_interval)
    return kb


@functools.lru_cache(maxsize=1)
def router() -> Router:
    return Router(knowledge_base(), get_settings().routing)


@functools.lru_cache(maxsize=1)
def database_url() -> str:
    url = get_settings().database_url
    init_db(url)
    return url


@functools.lru_cache(maxsize=1)
def secret() -> bytes:
    return app_secret(get_settings().secret_key_file)


@functools.lru_cache(maxsize=1)
def shop_store() -> ShopStore:
    limits = get_settings().limits
    return SqlShopStore(
        database_url(),
        secret(),
        resets_per_email_per_hour=limits.password_resets_per_email_per_hour,
        resets_per_session_per_hour=limits.password_resets_per_session_per_hour,
    )


@functools.lru_cache(maxsize=1)
def handoff_service() -> HandoffService:
    return HandoffService(database_url(), get_settings().handoff)
