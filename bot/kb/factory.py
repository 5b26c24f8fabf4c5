"""Builds a KnowledgeBase from settings."""

from __future__ import annotations

from bot.kb.embedder import create_embedder
from bot.kb.service import KnowledgeBase
from bot.settings import Settings


def knowledge_base_from(settings: Settings) -> KnowledgeBase:
    embedder = create_embedder(settings.embedder.backend, settings.embedder.model)
    return KnowledgeBase(
        settings.kb_path,
        embedder,
        settings.kb_index_dir,
        settings.routing.gate(),
        languages=settings.shop.languages,
    )
