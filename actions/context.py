"""Reading a rasa-sdk Tracker: language, misunderstandings, and the handoff context."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.kb.schema import FALLBACK_LANGUAGE, LANGUAGES
from bot.shop.security import redact, redact_with_flag, was_redacted

MISUNDERSTOOD = {"nlu_fallback"}


def language(tracker: Tracker) -> str:
    lang = tracker.get_slot("language") or "en"
    return lang if lang in LANGUAGES else FALLBACK_LANGUAGE


def misunderstandings_in_a_row(tracker: Tracker) -> int:
    """Trailing customer messages the NLU could not classify confidently."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in MISUNDERSTOOD:
            break
        count += 1
    return count


def handoff_context(tracker: Tracker, reason: str) -> dict[str, Any]:
    """Everything an agent needs so the customer never repeats themselves."""
    transcript: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            text, removed_here = redact_with_flag(event.get("text") or "")
            transcript.append(
                {
                    "sender": "customer",
                    "text": text,
                    "redacted": removed_here or was_redacted(text),
                    "at": event.get("timestamp"),
                    "intent_ranking": [
                        {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 4)}
                        for r in (parse.get("intent_ranking") or [])[:5]
                    ],
                    "entities": [
                        {"entity": e.get("entity"), "value": redact(str(e.get("value")))}
                        for e in parse.get("entities") or []
                        if e.get("entity") != "email"
                    ],
                }
            )
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            text = event.get("text") or custom.get("text") or ""
            transcript.append({"sender": "bot", "text": text, "at": event.get("timestamp")})
    slots = {
        name: redact(value) if isinstance(value, str) else value
        for name, value in tracker.current_slot_values().items()
        if value not in (None, [], "") and name not in {"requested_slot", "session_started_metadata"}
    }
    return {
        "reason": reason,
        "language": language(tracker),
        "transcript": transcript,
        "slots": slots,
        "verified_order": tracker.get_slot("verified_order"),
        "faq_candidates": tracker.get_slot("faq_candidates") or [],
    }
