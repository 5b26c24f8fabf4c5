"""What of a customer's text reaches Rasa as a command.

Rasa reads a message that starts with "/" as an intent with entities, at
confidence 1.0 (``/order_status{"order_number": "482913"}`` sets slots and skips
the NLU). Only a button the bot itself offered, and that is still open, may do
that: the gateway marks such a message as a command when it stores it, and the
relay escapes every other text, so that the NLU reads it as the words it is.
"""

from __future__ import annotations

INTENT_PREFIX = "/"
# Invisible and not whitespace: Rasa strips the text before it looks for the prefix.
ESCAPE = "\u2060"


def as_plain_text(text: str) -> str:
    """The text, never taken by Rasa as an intent."""
    stripped = text.strip()
    return ESCAPE + stripped if stripped.startswith(INTENT_PREFIX) else text


def text_for_bot(text: str, command: bool) -> str:
    return text if command else as_plain_text(text)
