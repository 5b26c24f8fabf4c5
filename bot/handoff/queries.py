"""Read-only queries for the agent console: the queue, one handoff's context, history.

Everything returns plain dicts and dataclasses (never ORM objects), so templates
and JSON views can use the results after the session has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.handoff.models import Agent, AgentNote, ChatMessage, Conversation, Handoff
from bot.kb.service import KnowledgeBase
from bot.shop.models import Customer, Order
from bot.shop.security import normalise_email

PREVIEW_CHARS = 140
HISTORY_LIMIT = 20
TIMELINE_LIMIT = 1000
QUEUE_LIMIT = 200  # per list; the console polls every 2.5 s


@dataclass(frozen=True)
class AgentView:
    """What the console needs of the logged-in agent (duck-types Agent for agent_reply)."""

    id: int
    username: str
    display_name: str
    role: str = "agent"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def iso(value: datetime | None) -> str | None:
    """Naive UTC datetimes from the database as ISO 8601 with a Z."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return 0.0


def _from_epoch(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and value > 0:
        return datetime.fromtimestamp(float(value), tz=UTC).replace(tzinfo=None)
    return None


def _preview(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


# --- agents -----------------------------------------------------------------
def agent_by_id(url: str, agent_id: Any) -> AgentView | None:
    if not isinstance(agent_id, int):
        return None
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None or agent.disabled_at is not None:  # disabling ends the agent's sessions too
            return None
        return AgentView(agent.id, agent.username, agent.display_name, agent.role)


# --- the queue --------------------------------------------------------------
def _last_customer_texts(session: Session, conversation_ids: set[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.conversation_id.in_(conversation_ids), ChatMessage.sender == "customer")
        .group_by(ChatMessage.conversation_id)
    )
    rows = session.execute(
        select(ChatMessage.conversation_id, ChatMessage.text).where(ChatMessage.id.in_(latest))
    )
    return {conversation_id: text for conversation_id, text in rows}


def _last_senders(session: Session, conversation_ids: set[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.conversation_id.in_(conversation_ids))
        .group_by(ChatMessage.conversation_id)
    )
    rows = session.execute(
        select(ChatMessage.conversation_id, ChatMessage.sender).where(ChatMessage.id.in_(latest))
    )
    return {conversation_id: sender for conversation_id, sender in rows}


def _context_preview(context: dict | None) -> str:
    for entry in reversed((context or {}).get("transcript") or []):
        if entry.get("sender") == "customer":
            return entry.get("text") or ""
    return ""


def _queue_row(handoff: Handoff, now: datetime, previews: dict, senders: dict, names: dict) -> dict:
    since = handoff.created_at or now
    return {
        "id": handoff.id,
        "status": handoff.status,
        "language": handoff.language,
        "reason": handoff.reason,
        "created_at": iso(handoff.created_at),
        "claimed_at": iso(handoff.claimed_at),
        "wait_seconds": max(int((now - since).total_seconds()), 0),
        "preview": _preview(previews.get(handoff.conversation_id) or _context_preview(handoff.context)),
        "awaiting_reply": senders.get(handoff.conversation_id) == "customer",
        "agent_name": names.get(handoff.agent_id),
    }


def queue(url: str, agent_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Waiting handoffs, the agent's own, and offline tickets whose promise is not yet kept."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    with session_scope(url) as session:
        active = (
            session.execute(
                select(Handoff)
                .where(
                    or_(
                        Handoff.status == "queued",
                        (Handoff.status == "assigned") & (Handoff.agent_id == agent_id),
                    )
                )
                .order_by(Handoff.created_at, Handoff.id)
                .limit(QUEUE_LIMIT)
            )
            .scalars()
            .all()
        )
        tickets = (
            session.execute(
                select(Handoff)
                .where(
                    Handoff.status == "ticket",
                    Handoff.promise.is_not(None),
                    Handoff.promise_kept_at.is_(None),
                )
                .order_by(Handoff.promise_due_at, Handoff.id)
                .limit(QUEUE_LIMIT)
            )
            .scalars()
            .all()
        )
        ids = {h.conversation_id for h in [*active, *tickets]}
        previews = _last_customer_texts(session, ids)
        senders = _last_senders(session, {h.conversation_id for h in active})
        names = dict(session.execute(select(Agent.id, Agent.display_name)).all())
        waiting = [_queue_row(h, now, previews, senders, names) for h in active if h.status == "queued"]
        mine = [_queue_row(h, now, previews, senders, names) for h in active if h.status == "assigned"]
        open_tickets = []
        for ticket in tickets:
            row = _queue_row(ticket, now, previews, senders, names)
            row.update(
                contact_email=ticket.contact_email,
                promise=ticket.promise,
                promise_due_at=iso(ticket.promise_due_at),
                overdue=bool(ticket.promise_due_at and ticket.promise_due_at < now),
            )
            open_tickets.append(row)
    return {"now": iso(now), "waiting": waiting, "mine": mine, "tickets": open_tickets}


# --- one handoff ----------------------------------------------------------
def handoff_detail(url: str, handoff_id: int) -> dict[str, Any] | None:
    with session_scope(url) as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            return None
        conversation = session.get(Conversation, handoff.conversation_id)
        agent = session.get(Agent, handoff.agent_id) if handoff.agent_id else None
        context = handoff.context if isinstance(handoff.context, dict) else {}
        return {
            "id": handoff.id,
            "conversation_id": handoff.conversation_id,
            "status": handoff.status,
            "reason": handoff.reason,
            "language": handoff.language,
            "agent_id": handoff.agent_id,
            "agent_name": agent.display_name if agent else None,
            "contact_email": handoff.contact_email,
            "promise": handoff.promise,
            "promise_due_at": handoff.promise_due_at,
            "promise_kept_at": handoff.promise_kept_at,
            "created_at": handoff.created_at,
            "claimed_at": handoff.claimed_at,
            "first_agent_reply_at": handoff.first_agent_reply_at,
            "resolved_at": handoff.resolved_at,
            "csat": handoff.csat,
            "csat_comment": handoff.csat_comment,
            "mode": conversation.mode if conversation else "bot",
            "conversation_created_at": conversation.created_at if conversation else None,
            "last_activity_at": conversation.last_activity_at if conversation else None,
            "customer_email": conversation.customer_email if conversation else None,
            "context": {
                "reason": context.get("reason"),
                "language": context.get("language"),
                "transcript": [e for e in context.get("transcript") or [] if isinstance(e, dict)],
                "slots": context.get("slots") if isinstance(context.get("slots"), dict) else {},
                "verified_order": context.get("verified_order"),
                "faq_candidates": [c for c in context.get("faq_candidates") or [] if isinstance(c, dict)],
            },
        }


def conversation_messages(url: str, conversation_id: str) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        rows = (
            session.execute(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conversation_id)
                .order_by(ChatMessage.id.desc())
                .limit(TIMELINE_LIMIT)
            )
            .scalars()
            .all()
        )
        return [
            {
                "id": m.id,
                "sender": m.sender,
                "text": m.text,
                "buttons": m.buttons or [],
                "agent_name": m.agent_name,
                "at": m.created_at,
            }
            for m in reversed(rows)
        ]


def _same_text(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def timeline(messages: list[dict], transcript: list[dict]) -> list[dict[str, Any]]:
    """The stored chat messages, each customer message annotated with the NLU's view of it.

    Rasa's transcript (in the handoff context) is matched to the stored messages in
    order by sender and text; entries with no stored counterpart (e.g. another
    channel) are kept and placed by their timestamp.
    """
    entries = [e for e in transcript if e.get("sender") in ("customer", "bot")]
    used: set[int] = set()
    cursor = {"customer": 0, "bot": 0}
    items: list[dict[str, Any]] = []
    for message in messages:
        item = {**message, "source": "chat", "intent_ranking": [], "entities": []}
        sender = message["sender"]
        if sender in cursor:
            for index in range(cursor[sender], len(entries)):
                entry = entries[index]
                if (
                    entry["sender"] == sender
                    and index not in used
                    and _same_text(entry.get("text"), message["text"])
                ):
                    used.add(index)
                    cursor[sender] = index + 1
                    item["intent_ranking"] = entry.get("intent_ranking") or []
                    item["entities"] = entry.get("entities") or []
                    break
        items.append(item)
    for index, entry in enumerate(entries):
        if index not in used:
            items.append(
                {
                    "id": None,
                    "sender": entry["sender"],
                    "text": entry.get("text") or "",
                    "buttons": [],
                    "agent_name": None,
                    "at": _from_epoch(entry.get("at")),
                    "source": "rasa",
                    "intent_ranking": entry.get("intent_ranking") or [],
                    "entities": entry.get("entities") or [],
                }
            )
    # Stable: stored messages keep their id order; Rasa-only entries slot in by time.
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda i: (_epoch(i["at"]), order[id(i)]))
    return items


def notes(url: str, handoff_id: int) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(AgentNote, Agent.display_name)
            .join(Agent, Agent.id == AgentNote.agent_id)
            .where(AgentNote.handoff_id == handoff_id)
            .order_by(AgentNote.id)
        ).all()
        return [
            {"id": n.id, "text": n.text, "agent_name": name, "created_at": n.created_at} for n, name in rows
        ]


# --- the shop (read-only) ---------------------------------------------------
def order_summary(url: str, number: Any) -> dict[str, Any] | None:
    if not isinstance(number, str) or not number.isdigit() or len(number) > 12:
        return None
    with session_scope(url) as session:
        order = session.execute(select(Order).where(Order.number == number)).scalar_one_or_none()
        if order is None:
            return None
        return {
            "number": order.number,
            "status": order.status,
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "ordered_at": order.ordered_at,
            "shipped_at": order.shipped_at,
            "delivered_at": order.delivered_at,
            "estimated_delivery": order.estimated_delivery,
            "customer_name": order.customer.name if order.customer else None,
            "customer_email": order.customer.email if order.customer else None,
            "items": [
                {
                    "sku": i.sku,
                    "name": i.name,
                    "category": i.category,
                    "quantity": i.quantity,
                    "unit_price": f"{i.unit_price_cents / 100:.2f}",
                }
                for i in order.items
            ],
        }


def customer_emails(detail: dict[str, Any], order: dict[str, Any] | None) -> set[str]:
    """Every address the customer is known by: verified order, contact left, email slot."""
    candidates = [
        detail.get("customer_email"),
        detail.get("contact_email"),
        order and order.get("customer_email"),
    ]
    if detail["context"]["verified_order"]:  # the email slot is only trustworthy once verified
        candidates.append(detail["context"]["slots"].get("email"))
    return {e for e in (normalise_email(str(c)) for c in candidates if c) if e}


def customer_history(url: str, detail: dict[str, Any], emails: set[str]) -> dict[str, Any]:
    """The customer's other handoffs (same conversation or same verified email) and orders."""
    with session_scope(url) as session:
        numbers: list[str] = []
        orders: list[dict[str, Any]] = []
        if emails:
            for order in session.execute(
                select(Order)
                .join(Customer)
                .where(Customer.email.in_(emails))
                .order_by(Order.ordered_at.desc())
                .limit(HISTORY_LIMIT)
            ).scalars():
                numbers.append(order.number)
                orders.append(
                    {"number": order.number, "status": order.status, "ordered_at": order.ordered_at}
                )
        same_customer = [Handoff.conversation_id == detail["conversation_id"]]
        if emails:
            same_customer.append(Handoff.contact_email.in_(emails))
            same_customer.append(
                Handoff.conversation_id.in_(
                    select(Conversation.id).where(Conversation.customer_email.in_(emails))
                )
            )
        if numbers:
            same_customer.append(Handoff.context["verified_order"].as_string().in_(numbers))
        rows = session.execute(
            select(Handoff, Agent.display_name)
            .outerjoin(Agent, Agent.id == Handoff.agent_id)
            .where(Handoff.id != detail["id"], or_(*same_customer))
            .order_by(Handoff.created_at.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        handoffs = [
            {
                "id": h.id,
                "status": h.status,
                "reason": h.reason,
                "language": h.language,
                "created_at": h.created_at,
                "resolved_at": h.resolved_at,
                "csat": h.csat,
                "agent_name": name,
                "same_conversation": h.conversation_id == detail["conversation_id"],
                "preview": _preview(_context_preview(h.context)),
            }
            for h, name in rows
        ]
        conversations = []
        if emails:
            conversations = [
                {"created_at": c.created_at, "last_activity_at": c.last_activity_at, "language": c.language}
                for c in session.execute(
                    select(Conversation)
                    .where(
                        Conversation.customer_email.in_(emails),
                        Conversation.id != detail["conversation_id"],
                    )
                    .order_by(Conversation.last_activity_at.desc())
                    .limit(HISTORY_LIMIT)
                ).scalars()
            ]
    return {"handoffs": handoffs, "orders": orders, "conversations": conversations}


# --- canned answers ---------------------------------------------------------
def kb_suggestions(kb: KnowledgeBase, query: str, lang: str, k: int = 5) -> list[dict[str, Any]]:
    """Top knowledge-base entries for the agent's search, answers in ``lang`` (else English)."""
    query = query.strip()
    hits: list[tuple[str, float | None]] = []
    if kb.entry(query) is not None:  # an FAQ candidate id clicked in the context panel
        hits.append((query, None))
    hits += [(h.entry_id, round(h.score, 4)) for h in kb.search(query, k) if h.entry_id != query]
    results = []
    for entry_id, score in hits[:k]:
        entry = kb.entry(entry_id)
        if entry is None:
            continue
        answer, used = entry.answer_in(lang)
        text = entry.texts.get(used)
        question = text.questions[0] if text and text.questions else entry_id
        if entry.links:
            # the same markdown the bot's FAQ answers use (actions.faq.render_answer)
            answer += "\n\n" + "\n".join(f"- [{link.title}]({link.url})" for link in entry.links)
        results.append({"id": entry_id, "score": score, "question": question, "answer": answer, "lang": used})
    return results


def handoff_state(url: str, handoff_id: int) -> dict[str, Any] | None:
    """What the conversation view's long-poll needs besides the messages."""
    with session_scope(url) as session:
        row = session.execute(
            select(Handoff.conversation_id, Handoff.status, Handoff.csat, Agent.display_name)
            .outerjoin(Agent, Agent.id == Handoff.agent_id)
            .where(Handoff.id == handoff_id)
        ).first()
        if row is None:
            return None
        return {
            "conversation_id": row.conversation_id,
            "status": row.status,
            "agent_name": row.display_name,
            "csat": row.csat,
        }
