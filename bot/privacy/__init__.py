"""Privacy: retention period, export and erasure of one customer's data (app database and
Rasa's tracker store)."""

from bot.privacy.service import PrivacyService, Removed
from bot.privacy.tracker_store import RasaTrackerStore

__all__ = ["PrivacyService", "RasaTrackerStore", "Removed"]
