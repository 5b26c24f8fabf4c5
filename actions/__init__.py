"""Custom actions for the rasa-sdk action server (``rasa run actions``)."""

import logging
import threading

from bot.settings import load_settings


def _warm_up() -> None:
    """Load the FAQ index as the server starts, not on the first customer's question."""
    from bot import composition

    try:
        composition.knowledge_base().decide("delivery")  # the first search allocates buffers too
    except Exception:  # the first FAQ question tries again and reports it
        logging.getLogger(__name__).exception("knowledge base warm-up failed")


if load_settings().warm_up_actions:  # set for the supervised action server only
    threading.Thread(target=_warm_up, name="kb-warm-up", daemon=True).start()
