"""Privacy: retention period, export and erasure of one customer's data (app database and
Rasa's tracker store)."""

from bot.privacy.service import FoundConversation, PrivacyService, Removed, conversation_ref
from bot.privacy.tracker_store import RasaTrackerStore

__all__ = ["FoundConversation", "PrivacyService", "RasaTrackerStore", "Removed", "conversation_ref"]
