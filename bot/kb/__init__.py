"""FAQ knowledge base: YAML files -> validated entries -> embeddings -> FAISS."""

from bot.kb.schema import LANGUAGES, FaqEntry, Issue, LocalizedText

__all__ = ["LANGUAGES", "FaqEntry", "Issue", "LocalizedText"]
