"""Read models of the agent console: the queue, one handoff's context, history, search.

Everything returns plain, JSON-ready dicts and dataclasses (never ORM objects):
the same dicts are embedded in the first page load and sent to live updates,
and the console's scripts render both with one renderer per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.attachments.models import Attachment
from bot.db import session_scope
from bot.handoff.models import Agent, AgentNote, ConversationLabel, Handoff
from bot.kb.service import KnowledgeBase
from bot.messages.log import message_dict
from bot.messages.models import Channel, ChatMessage, Conversation
from bot.shop.models import Customer, Order
from bot.shop.security import normalise_email

PREVIEW_CHARS = 140
HISTORY_LIMIT = 20
TIMELINE_LIMIT = 1000
QUEUE_LIMIT = 200  # per list
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class AgentView:
    """What the console needs of the logged-in agent (duck-types Agent for agent_reply)."""

    id: int
    username: str
    display_name: str
    presence: str = "offline"
    session_generation: int = 0
    role: str = "agent"
    locale: str | None = None  # the console's language the agent chose

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
def agent_view(url: str, agent_id: Any) -> AgentView | None:
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        return None
    with session_scope(url) as session:
        agent = session.get(Agent, agent_id)
        if agent is None or agent.disabled_at is not None:  # disabling ends the agent's sessions too
            return None
        return AgentView(
            agent.id,
            agent.username,
            agent.display_name,
            agent.presence or "offline",
            agent.session_generation or 0,
            agent.role or "agent",
            agent.locale,
        )


def team(url: str, presence_timeout_seconds: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every agent with the presence they set; a console gone silent counts as offline."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    with session_scope(url) as session:
        rows = session.execute(
            select(Agent).where(Agent.disabled_at.is_(None)).order_by(Agent.display_name)
        ).scalars().all()
        return [
            {
                "id": a.id,
                "name": a.display_name,
                "presence": (
                    a.presence
                    if a.last_seen_at and (now - a.last_seen_at).total_seconds() <= presence_timeout_seconds
                    else "offline"
                ),
            }
            for a in rows
        ]


def labels_of(session: Session, conversation_ids: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if conversation_ids:
        for conversation_id, label in session.execute(
            select(ConversationLabel.conversation_id, ConversationLabel.label)
            .where(ConversationLabel.conversation_id.in_(conversation_ids))
            .order_by(ConversationLabel.label)
        ):
            found.setdefault(conversation_id, []).append(label)
    return found


def all_labels(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.execute(select(ConversationLabel.label).distinct().order_by(ConversationLabel.label)).scalars())


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
        select(ChatMessage.conversation_id, ChatMessage.text, Attachment.filename)
        .outerjoin(Attachment, ChatMessage.attachment_id == Attachment.id)
        .where(ChatMessage.id.in_(latest))
    )
    # A photo or PDF alone shows as its name.
    return {conversation_id: text or (f"📎 {name}" if name else "") for conversation_id, text, name in rows}


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


def _channels_of(session: Session, conversation_ids: set[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    return dict(
        session.execute(select(Conversation.id, Conversation.channel).where(Conversation.id.in_(conversation_ids))).all()
    )


def _queue_row(
    handoff: Handoff, now: datetime, previews: dict, senders: dict, names: dict, labels: dict, channels: dict
) -> dict:
    since = handoff.queued_at or handoff.created_at or now
    return {
        "id": handoff.id,
        "status": handoff.status,
        "language": handoff.language,
        "reason": handoff.reason,
        "created_at": iso(handoff.created_at),
        "waiting_since": iso(since),
        "claimed_at": iso(handoff.claimed_at),
        "wait_seconds": max(int((now - since).total_seconds()), 0),
        "preview": _preview(previews.get(handoff.conversation_id) or _context_preview(handoff.context)),
        "awaiting_reply": senders.get(handoff.conversation_id) == "customer",
        "agent_id": handoff.agent_id,
        "agent_name": names.get(handoff.agent_id),
        "labels": labels.get(handoff.conversation_id, []),
        "channel": channels.get(handoff.conversation_id, Channel.WIDGET.value),
    }


def queue(url: str, agent_id: int, now: datetime | None = None, channel: Channel | None = None) -> dict[str, Any]:
    """Waiting handoffs, the agent's own, and offline tickets whose promise is not yet kept.

    With ``channel``, only conversations on that channel (widget, email, telegram).
    """
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
                .order_by(func.coalesce(Handoff.queued_at, Handoff.created_at), Handoff.id)
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
        labels = labels_of(session, ids)
        channels = _channels_of(session, ids)
        if channel is not None:
            active = [h for h in active if channels.get(h.conversation_id) == channel.value]
            tickets = [h for h in tickets if channels.get(h.conversation_id) == channel.value]
        rows = [_queue_row(h, now, previews, senders, names, labels, channels) for h in active]
        waiting = [r for r in rows if r["status"] == "queued"]
        mine = [r for r in rows if r["status"] == "assigned"]
        open_tickets = []
        for ticket in tickets:
            row = _queue_row(ticket, now, previews, senders, names, labels, channels)
            row.update(
                contact_email=ticket.contact_email,
                promise=ticket.promise,
                promise_due_at=iso(ticket.promise_due_at),
                timed_out=ticket.timed_out_at is not None,
                overdue=bool(ticket.promise_due_at and ticket.promise_due_at < now),
            )
            open_tickets.append(row)
    return {"now": iso(now), "waiting": waiting, "mine": mine, "tickets": open_tickets}


# --- one handoff ----------------------------------------------------------
def handoff_detail(url: str, handoff_id: int) -> dict[str, Any] | None:
    """Everything about one handoff, JSON-ready (times as ISO 8601 UTC)."""
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
            "promise_due_at": iso(handoff.promise_due_at),
            "promise_kept_at": iso(handoff.promise_kept_at),
            "created_at": iso(handoff.created_at),
            "queued_at": iso(handoff.queued_at),
            "claimed_at": iso(handoff.claimed_at),
            "first_agent_reply_at": iso(handoff.first_agent_reply_at),
            "resolved_at": iso(handoff.resolved_at),
            "timed_out_at": iso(handoff.timed_out_at),
            "email_reply_at": iso(handoff.email_reply_at),
            "csat": handoff.csat,
            "csat_comment": handoff.csat_comment,
            "mode": conversation.mode if conversation else "bot",
            "channel": conversation.channel if conversation else Channel.WIDGET.value,
            "conversation_created_at": iso(conversation.created_at) if conversation else None,
            "last_activity_at": iso(conversation.last_activity_at) if conversation else None,
            # Set only by order verification in this conversation: the one identity we trust.
            "customer_email": conversation.customer_email if conversation else None,
            "labels": labels_of(session, {handoff.conversation_id}).get(handoff.conversation_id, []),
            "context": {
                "reason": context.get("reason"),
                "language": context.get("language"),
                "transcript": [e for e in context.get("transcript") or [] if isinstance(e, dict)],
                "slots": context.get("slots") if isinstance(context.get("slots"), dict) else {},
                "verified_order": context.get("verified_order"),
                "faq_candidates": [c for c in context.get("faq_candidates") or [] if isinstance(c, dict)],
            },
        }


def panel_state(url: str, handoff_id: int) -> dict[str, Any] | None:
    """What the conversation view re-reads after any action or push: the handoff and its notes."""
    detail = handoff_detail(url, handoff_id)
    if detail is None:
        return None
    detail.pop("context")
    detail.pop("conversation_id")
    return {"handoff": detail, "notes": notes(url, handoff_id)}


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
        return [message_dict(m) for m in reversed(rows)]


def _same_text(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def _parse_iso(value: Any) -> float:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return 0.0
    return _epoch(value)


def timeline(messages: list[dict], transcript: list[dict]) -> list[dict[str, Any]]:
    """The stored chat messages (``message_dict`` shape), customer ones annotated with the NLU's view.

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
                    "created_at": iso(_from_epoch(entry.get("at"))),
                    "source": "rasa",
                    "intent_ranking": entry.get("intent_ranking") or [],
                    "entities": entry.get("entities") or [],
                }
            )
    # Stable: stored messages keep their id order; Rasa-only entries slot in by time.
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda i: (_parse_iso(i["created_at"]), order[id(i)]))
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
            {"id": n.id, "kind": n.kind or "note", "text": n.text, "agent_name": name, "created_at": iso(n.created_at)}
            for n, name in rows
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


def verified_emails(detail: dict[str, Any], order: dict[str, Any] | None) -> set[str]:
    """The only identity history is looked up by: the email that passed order verification here.

    That is the conversation's ``customer_email`` (set by verification) and the
    email on the order verified in this handoff. An email the customer merely
    typed (a ticket's contact address, an unverified slot) is shown as unverified
    and pulls no history: anyone can type anyone's address.
    """
    candidates = [detail.get("customer_email")]
    if detail["context"]["verified_order"] and order:
        candidates.append(order.get("customer_email"))
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
        previews = _last_customer_texts(session, {h.conversation_id for h, _ in rows})
        handoffs = [
            {
                "id": h.id,
                "status": h.status,
                "reason": h.reason,
                "language": h.language,
                "created_at": iso(h.created_at),
                "resolved_at": iso(h.resolved_at),
                "csat": h.csat,
                "agent_name": name,
                "same_conversation": h.conversation_id == detail["conversation_id"],
                "preview": _preview(previews.get(h.conversation_id) or _context_preview(h.context)),
            }
            for h, name in rows
        ]
        conversations = []
        if emails:
            conversations = [
                {"created_at": iso(c.created_at), "last_activity_at": iso(c.last_activity_at), "language": c.language}
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
def _suggestion(kb: KnowledgeBase, entry_id: str, lang: str, **extra: Any) -> dict[str, Any] | None:
    entry = kb.entry(entry_id)
    if entry is None:
        return None
    answer, used = entry.answer_in(lang)
    text = entry.texts.get(used)
    question = text.questions[0] if text and text.questions else entry_id
    if entry.links:
        # the same markdown the bot's FAQ answers use (actions.faq.render_answer)
        answer += "\n\n" + "\n".join(f"- [{link.title}]({link.url})" for link in entry.links)
    return {"id": entry_id, "question": question, "answer": answer, "lang": used, **extra}


def kb_suggestions(kb: KnowledgeBase, query: str, lang: str, k: int = 5) -> dict[str, Any]:
    """The agent's FAQ search, decided as the bot decides: the same retrieval and answer gate.

    ``results`` holds what the bot itself would answer (at most one entry, with the FAQ
    gate's calibrated chance that it is right); ``weaker`` the nearest other entries, each
    with its chance, below the bot's bar, so a cosine of 0.86 that means "unrelated" is not
    shown as a match.
    An entry id (clicked in the context panel) is shown as that entry.
    """
    query = query.strip()
    bar = round(1.0 - kb.gate.config.max_risk, 3)  # the P(right) the bot needs to answer
    if kb.entry(query) is not None:
        shown = _suggestion(kb, query, lang, score=None, answers=True)
        return {"results": [shown] if shown else [], "weaker": [], "bar": bar, "best": None}
    hits = kb.search(query, k)
    decision = kb.assess(hits)
    chances = list(decision.probabilities) + [0.0] * (len(hits) - len(decision.probabilities))
    results, weaker = [], []
    for hit, chance in zip(hits, chances, strict=True):
        answers = hit.entry_id == decision.entry_id
        shown = _suggestion(kb, hit.entry_id, lang, score=round(chance, 3), answers=answers, matched=hit.matched_question)
        if shown is not None:
            (results if answers else weaker).append(shown)
    return {"results": results, "weaker": weaker, "bar": bar, "best": round(decision.probability, 3) if hits else None}


def handoff_state(url: str, handoff_id: int) -> dict[str, Any] | None:
    """What a socket that watches a handoff needs: its conversation and status."""
    with session_scope(url) as session:
        row = session.execute(
            select(Handoff.conversation_id, Handoff.status).where(Handoff.id == handoff_id)
        ).first()
        return {"conversation_id": row.conversation_id, "status": row.status} if row else None


# --- search past conversations ---------------------------------------------
def search(url: str, query: str, label: str | None = None, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Handoffs by customer email (verified or left as contact), order number, or message text."""
    query = query.strip()
    email = normalise_email(query) if "@" in query else None
    number = query if query.isdigit() and len(query) <= 12 else None
    with session_scope(url) as session:
        conditions = []
        if email:
            conditions.append(Handoff.contact_email == email)
            conditions.append(
                Handoff.conversation_id.in_(select(Conversation.id).where(Conversation.customer_email == email))
            )
        elif number:
            conditions.append(Handoff.context["verified_order"].as_string() == number)
            conditions.append(Handoff.context["slots"]["order_number"].as_string() == number)
        if query and not email:
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(
                Handoff.conversation_id.in_(
                    select(ChatMessage.conversation_id).where(ChatMessage.text.ilike(pattern, escape="\\"))
                )
            )
        statement = select(Handoff, Agent.display_name).outerjoin(Agent, Agent.id == Handoff.agent_id)
        if conditions:
            statement = statement.where(or_(*conditions))
        if label:
            statement = statement.where(
                Handoff.conversation_id.in_(
                    select(ConversationLabel.conversation_id).where(ConversationLabel.label == label)
                )
            )
        rows = session.execute(statement.order_by(Handoff.created_at.desc()).limit(limit)).all()
        ids = {h.conversation_id for h, _ in rows}
        previews = _last_customer_texts(session, ids)
        labels = labels_of(session, ids)
        return [
            {
                "id": h.id,
                "status": h.status,
                "language": h.language,
                "reason": h.reason,
                "created_at": iso(h.created_at),
                "agent_name": name,
                "contact_email": h.contact_email,
                "preview": _preview(previews.get(h.conversation_id) or _context_preview(h.context)),
                "labels": labels.get(h.conversation_id, []),
            }
            for h, name in rows
        ]
