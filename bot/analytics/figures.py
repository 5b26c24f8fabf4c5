"""The report's figures for a date range, derived from conversations, messages, handoffs and events.

Every figure counts conversations (or handoffs, or ratings) once: a conversation
belongs to the day of its first customer message, and its handoff reason is the
reason of its first handoff. DEFINITIONS holds the one-sentence definition shown
on the page and in the README.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from bot.analytics.events import FAQ_ANSWER, FAQ_FEEDBACK
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.handoff.models import Agent, Handoff
from bot.messages.models import ChatMessage, Conversation

REPEAT_WINDOW = timedelta(days=7)
SATISFIED = (4, 5)

DEFINITIONS: dict[str, str] = {
    "conversations": "Conversations whose first customer message falls in the range (a conversation opened "
    "without a message is not counted).",
    "containment": "Share of those conversations that never reached a person (no live handoff and no "
    "email ticket).",
    "handoff_rate": "Share of conversations handed to a person, split by the reason of their first handoff, "
    "so the reasons add up to the total.",
    "bot_first_response": "Seconds from a conversation's first customer message to the bot's first reply "
    "(p50 and p90 over conversations).",
    "first_human_reply": "Seconds from a live handoff to the agent's first message (p50 and p90 over "
    "handoffs that got a reply).",
    "resolution_time": "Seconds from a live handoff to its resolution (p50 and p90 over resolved handoffs).",
    "csat": "Share of ratings that are 4 or 5 (of 1-5) given after an agent resolved a handoff; the response "
    "rate is rated handoffs over resolved handoffs.",
    "fcr": "Share of conversations that were contained or solved in exactly one handoff (resolved, or its "
    "email promise kept) with no new conversation from the same verified customer within 7 days.",
    "faq_served": "FAQ answers the bot sent, per entry (one per answer, so a conversation can count twice "
    "here by asking two questions).",
    "faq_feedback": "Thumbs up and down the customers gave FAQ answers, per entry and language (the "
    "latest vote per answer).",
    "promises": "Email reply promises made in the range: kept in time, broken (kept late or overdue), "
    "or still open.",
    "by_channel": "Every figure again per channel the conversation took place on (widget, email, "
    "Telegram); each conversation has one channel, so the channels' counts add up to the total.",
}


@dataclass
class HandoffFacts:
    id: int
    reason: str
    status: str
    language: str
    agent: str | None
    created_at: datetime
    first_agent_reply_at: datetime | None
    resolved_at: datetime | None
    csat: int | None
    promise_due_at: datetime | None
    promise_kept_at: datetime | None
    contact_email: str | None

    @property
    def solved(self) -> bool:
        if self.status == "resolved":
            return True
        return bool(
            self.promise_kept_at and self.promise_due_at and self.promise_kept_at <= self.promise_due_at
        )


@dataclass
class ConversationFacts:
    id: str
    language: str
    channel: str
    started_at: datetime
    first_bot_at: datetime | None
    customer: str | None
    handoffs: list[HandoffFacts] = field(default_factory=list)
    repeated: bool = False

    @property
    def contained(self) -> bool:
        return not self.handoffs

    @property
    def first_contact_resolved(self) -> bool:
        if self.repeated:
            return False
        return self.contained or (len(self.handoffs) == 1 and self.handoffs[0].solved)


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50 and p90 by linear interpolation (numpy's default), rounded to 0.1 s; None when empty."""
    data = np.asarray(list(values), dtype=float)
    if not data.size:
        return {"n": 0, "p50": None, "p90": None}
    return {
        "n": int(data.size),
        "p50": round(float(np.percentile(data, 50)), 1),
        "p90": round(float(np.percentile(data, 90)), 1),
    }


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00): the end date is included."""
    return datetime.combine(start, datetime.min.time()), datetime.combine(
        end + timedelta(days=1), datetime.min.time()
    )


# --- loading ------------------------------------------------------------------
def load_conversations(url: str, start: date, end: date) -> list[ConversationFacts]:
    low, high = _bounds(start, end)
    with session_scope(url) as session:
        first_customer = (
            select(
                ChatMessage.conversation_id.label("cid"),
                func.min(ChatMessage.id).label("first_id"),
                func.min(ChatMessage.created_at).label("first_at"),
            )
            .where(ChatMessage.sender == "customer")
            .group_by(ChatMessage.conversation_id)
            .subquery()
        )
        rows = session.execute(
            select(Conversation, first_customer.c.first_id, first_customer.c.first_at)
            .join(first_customer, first_customer.c.cid == Conversation.id)
            .where(first_customer.c.first_at >= low, first_customer.c.first_at < high)
        ).all()
        if not rows:
            return []
        ids = [conversation.id for conversation, _, _ in rows]
        first_ids = {conversation.id: first_id for conversation, first_id, _ in rows}
        first_bot: dict[str, datetime] = {}
        for cid, message_id, created in session.execute(
            select(ChatMessage.conversation_id, ChatMessage.id, ChatMessage.created_at)
            .where(ChatMessage.conversation_id.in_(ids), ChatMessage.sender == "bot")
            .order_by(ChatMessage.id)
        ):
            if message_id > first_ids[cid] and cid not in first_bot:
                first_bot[cid] = created
        names = dict(session.execute(select(Agent.id, Agent.display_name)).all())
        handoffs: dict[str, list[HandoffFacts]] = defaultdict(list)
        for h in session.execute(
            select(Handoff).where(Handoff.conversation_id.in_(ids)).order_by(Handoff.created_at, Handoff.id)
        ).scalars():
            handoffs[h.conversation_id].append(
                HandoffFacts(
                    h.id,
                    h.reason,
                    h.status,
                    h.language,
                    names.get(h.agent_id),
                    h.created_at,
                    h.first_agent_reply_at,
                    h.resolved_at,
                    h.csat,
                    h.promise_due_at,
                    h.promise_kept_at,
                    h.contact_email,
                )
            )
        facts = []
        for conversation, _, first_at in rows:
            own = handoffs.get(conversation.id, [])
            customer = conversation.customer_email or next(
                (h.contact_email for h in own if h.contact_email), None
            )
            facts.append(
                ConversationFacts(
                    conversation.id,
                    conversation.language,
                    conversation.channel,
                    first_at,
                    first_bot.get(conversation.id),
                    customer.lower() if customer else None,
                    own,
                )
            )
        _mark_repeats(session, facts)
    return sorted(facts, key=lambda c: c.started_at)


def _mark_repeats(session: Any, facts: list[ConversationFacts]) -> None:
    """A conversation is repeated when the same customer starts another one within 7 days after it."""
    customers = {c.customer for c in facts if c.customer}
    if not customers:
        return
    starts: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for email, cid, created in session.execute(
        select(func.lower(Conversation.customer_email), Conversation.id, Conversation.created_at).where(
            func.lower(Conversation.customer_email).in_(customers)
        )
    ):
        starts[email].append((created, cid))
    for email, cid, created in session.execute(
        select(func.lower(Handoff.contact_email), Handoff.conversation_id, Handoff.created_at).where(
            func.lower(Handoff.contact_email).in_(customers)
        )
    ):
        starts[email].append((created, cid))
    for conversation in facts:
        if not conversation.customer:
            continue
        conversation.repeated = any(
            cid != conversation.id
            and conversation.started_at < created <= conversation.started_at + REPEAT_WINDOW
            for created, cid in starts[conversation.customer]
        )


def load_events(url: str, start: date, end: date, kinds: tuple[str, ...]) -> list[AnalyticsEvent]:
    low, high = _bounds(start, end)
    with session_scope(url) as session:
        return list(
            session.execute(
                select(AnalyticsEvent).where(
                    AnalyticsEvent.kind.in_(kinds),
                    AnalyticsEvent.created_at >= low,
                    AnalyticsEvent.created_at < high,
                )
            ).scalars()
        )


# --- figures ------------------------------------------------------------------
def conversation_figures(conversations: list[ConversationFacts], now: datetime) -> dict[str, Any]:
    """The figures that follow from a set of conversations (overall, or one language's)."""
    total = len(conversations)
    contained = sum(c.contained for c in conversations)
    reasons = Counter(c.handoffs[0].reason for c in conversations if c.handoffs)
    handoffs = [h for c in conversations for h in c.handoffs]
    live = [h for h in handoffs if h.status != "ticket"]
    resolved = [h for h in handoffs if h.status == "resolved"]
    ratings = [h.csat for h in resolved if h.csat is not None]
    return {
        "conversations": total,
        "contained": contained,
        "containment": _rate(contained, total),
        "handed_off": total - contained,
        "handoff_rate": _rate(total - contained, total),
        "handoff_reasons": [
            {"reason": reason, "conversations": n, "rate": _rate(n, total)}
            for reason, n in reasons.most_common()
        ],
        "bot_first_response": percentiles(
            s for s in (_seconds(c.started_at, c.first_bot_at) for c in conversations) if s is not None
        ),
        "first_human_reply": percentiles(
            s for s in (_seconds(h.created_at, h.first_agent_reply_at) for h in live) if s is not None
        ),
        "resolution_time": percentiles(
            s for s in (_seconds(h.created_at, h.resolved_at) for h in resolved) if s is not None
        ),
        "csat": csat(ratings, len(resolved)),
        "fcr": _rate(sum(c.first_contact_resolved for c in conversations), total),
        "fcr_conversations": sum(c.first_contact_resolved for c in conversations),
        "repeat_contacts": sum(c.repeated for c in conversations),
        "promises": promises(handoffs, now),
    }


def csat(ratings: list[int], resolved: int) -> dict[str, Any]:
    distribution = Counter(ratings)
    return {
        "ratings": len(ratings),
        "resolved": resolved,
        "score": _rate(sum(distribution[s] for s in SATISFIED), len(ratings)),
        "mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "response_rate": _rate(len(ratings), resolved),
        "distribution": {str(s): distribution[s] for s in range(1, 6)},
    }


def promises(handoffs: list[HandoffFacts], now: datetime) -> dict[str, int]:
    made = [h for h in handoffs if h.promise_due_at is not None]
    kept = sum(1 for h in made if h.promise_kept_at and h.promise_kept_at <= h.promise_due_at)
    broken = sum(
        1
        for h in made
        if (h.promise_kept_at and h.promise_kept_at > h.promise_due_at)
        or (h.promise_kept_at is None and h.promise_due_at < now)
    )
    return {"made": len(made), "kept": kept, "broken": broken, "open": len(made) - kept - broken}


def csat_by_agent(conversations: list[ConversationFacts]) -> list[dict[str, Any]]:
    by_agent: dict[str, list[HandoffFacts]] = defaultdict(list)
    for h in (h for c in conversations for h in c.handoffs if h.status == "resolved"):
        by_agent[h.agent or "?"].append(h)
    return [
        {"agent": agent, **csat([h.csat for h in own if h.csat is not None], len(own))}
        for agent, own in sorted(by_agent.items())
    ]


def trend(conversations: list[ConversationFacts], start: date, end: date) -> list[dict[str, Any]]:
    """Per day: conversations, contained, handed off and the CSAT score of that day's conversations."""
    days: dict[date, list[ConversationFacts]] = defaultdict(list)
    for c in conversations:
        days[c.started_at.date()].append(c)
    rows = []
    day = start
    while day <= end:
        own = days.get(day, [])
        ratings = [h.csat for c in own for h in c.handoffs if h.csat is not None]
        rows.append(
            {
                "day": day.isoformat(),
                "conversations": len(own),
                "contained": sum(c.contained for c in own),
                "handed_off": sum(not c.contained for c in own),
                "csat": csat(ratings, 0)["score"],
                "by_channel": dict(sorted(Counter(c.channel for c in own).items())),
            }
        )
        day += timedelta(days=1)
    return rows


def faq_figures(answers: list[AnalyticsEvent], votes: list[AnalyticsEvent]) -> list[dict[str, Any]]:
    """Per entry: answers served, and thumbs up/down per language."""
    served = Counter(e.faq_id for e in answers if e.faq_id)
    thumbs: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for vote in votes:
        if vote.faq_id:
            thumbs[vote.faq_id][vote.language or "?"]["up" if (vote.value or 0) > 0 else "down"] += 1
    rows = []
    for entry in sorted(set(served) | set(thumbs), key=lambda e: (-served[e], e)):
        languages = thumbs.get(entry, {})
        rows.append(
            {
                "faq_id": entry,
                "served": served[entry],
                "up": sum(c["up"] for c in languages.values()),
                "down": sum(c["down"] for c in languages.values()),
                "by_language": {lang: dict(c) for lang, c in sorted(languages.items())},
            }
        )
    return rows


def report(url: str, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """The whole report: overall, by language, per agent, the daily trend and the FAQ table."""
    now = now or datetime.utcnow()
    conversations = load_conversations(url, start, end)
    by_language: dict[str, list[ConversationFacts]] = defaultdict(list)
    for c in conversations:
        by_language[c.language].append(c)
    channels = sorted({c.channel for c in conversations})
    result = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "overall": conversation_figures(conversations, now),
        "by_language": {lang: conversation_figures(own, now) for lang, own in sorted(by_language.items())},
        "by_channel": (
            {ch: conversation_figures([c for c in conversations if c.channel == ch], now) for ch in channels}
            if len(channels) > 1
            else {}
        ),
        "csat_by_agent": csat_by_agent(conversations),
        "trend": trend(conversations, start, end),
        "faq": faq_figures(
            load_events(url, start, end, (FAQ_ANSWER,)), load_events(url, start, end, (FAQ_FEEDBACK,))
        ),
        "definitions": DEFINITIONS,
    }
    return result
