"""Recording analytics events where things happen (the FAQ action, the feedback API).

Texts are redacted before they are stored (card numbers never reach this table),
and the recorder never raises into a conversation: a lost event is logged, the
customer still gets the answer.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import delete, select

from bot.analytics.models import AnalyticsEvent
from bot.db import insert_ignore, session_scope
from bot.messages.models import ChatMessage
from bot.shop.security import redact

log = logging.getLogger(__name__)

# What the bot did with a customer message (one event per message).
FAQ_ANSWER = "faq_answer"
OUT_OF_SCOPE = "out_of_scope"  # the NLU says the message is not a shop question
NO_FAQ_MATCH = "no_faq_match"  # a shop question the FAQ has no confident answer for
MISUNDERSTOOD = "misunderstood"  # the NLU could not tell what the customer wants
CLARIFY = "clarify"  # the bot asked which of two things was meant
FAQ_FEEDBACK = "faq_feedback"  # thumbs up (+1) or down (-1) on an FAQ answer
UNANSWERED_KINDS = (OUT_OF_SCOPE, NO_FAQ_MATCH, MISUNDERSTOOD)
MAX_TEXT = 500
# Emails in what customers type are of no use to the content team; agents see them in the console.
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A pasted reset link or token: long runs of URL-safe characters with a digit in them.
_TOKEN = re.compile(r"(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{24,}")


def clean_text(text: str | None) -> str | None:
    """Customer text as analytics keeps it: no card numbers, emails or tokens; bounded."""
    if not text:
        return None
    return _TOKEN.sub("[token]", _EMAIL.sub("[email]", redact(text)))[:MAX_TEXT]


_clip = clean_text


class EventLog:
    def __init__(self, database_url: str) -> None:
        self.url = database_url

    def record(
        self,
        kind: str,
        conversation_id: str | None,
        *,
        language: str | None = None,
        faq_id: str | None = None,
        score: float | None = None,
        text: str | None = None,
        channel: str = "web",
        at: datetime | None = None,
        embedding: bytes | None = None,
        embedding_model: str | None = None,
    ) -> None:
        try:
            with session_scope(self.url) as session:
                session.add(
                    AnalyticsEvent(
                        kind=kind,
                        conversation_id=conversation_id,
                        language=language,
                        channel=channel,
                        faq_id=faq_id,
                        score=None if score is None else round(float(score), 4),
                        text=_clip(text),
                        created_at=at or datetime.utcnow(),
                        embedding=embedding,
                        embedding_model=embedding_model if embedding else None,
                    )
                )
        except Exception:  # analytics must never break a conversation
            log.exception("could not record analytics event %s", kind)

    def record_feedback(
        self, conversation_id: str, message_id: int, helpful: bool, comment: str | None = None
    ) -> dict | None:
        """A thumbs vote on one FAQ answer of this conversation; None if it is not one.

        The customer's question (the message before the answer) is kept with a
        thumbs-down, so it joins the unanswered questions.
        """
        with session_scope(self.url) as session:
            answer = session.get(ChatMessage, message_id)
            meta = (answer.meta or {}) if answer is not None else {}
            if answer is None or answer.conversation_id != conversation_id or not meta.get("faq_id"):
                return None
            question = session.scalar(
                select(ChatMessage.text)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "customer",
                    ChatMessage.id < message_id,
                )
                .order_by(ChatMessage.id.desc())
                .limit(1)
            )
            values = {
                "kind": FAQ_FEEDBACK,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "faq_id": meta["faq_id"],
                "language": meta.get("language"),
                "value": 1 if helpful else -1,
                "text": None if helpful else _clip(question),
                "comment": _clip(comment) if comment and not helpful else None,
                "created_at": datetime.utcnow(),
            }
            session.execute(insert_ignore(session, AnalyticsEvent).values(**values))
            vote = session.execute(
                select(AnalyticsEvent).where(
                    AnalyticsEvent.kind == FAQ_FEEDBACK, AnalyticsEvent.message_id == message_id
                )
            ).scalar_one()
            # A second click changes the vote (and a later comment completes a thumbs-down).
            vote.value, vote.text = values["value"], values["text"]
            if values["comment"] or helpful:
                vote.comment = values["comment"]
            return {"faq_id": vote.faq_id, "helpful": helpful}


def erase_conversation(database_url: str, conversation_id: str) -> int:
    """Delete the analytics rows of one conversation (for a privacy erase); returns how many."""
    with session_scope(database_url) as session:
        result = session.execute(
            delete(AnalyticsEvent)
            .where(AnalyticsEvent.conversation_id == conversation_id)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)
