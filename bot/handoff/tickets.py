"""Tickets: a handoff nobody claimed in time becomes one, and an agent answers it by email.

Texts come from locales/handoff.yml (data, in the four languages); mail goes
through the outbox (bot.shop.mailer), so a mail server that is down loses nothing.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import ChatMessage
from bot.handoff.service import HandoffService, TimedOut
from bot.messages.log import MessageLog
from bot.settings import ROOT
from bot.shop.mailer import seal
from bot.shop.models import OutboxEmail
from bot.shop.security import extract_email

log = logging.getLogger(__name__)
CONTEXT_MESSAGES = 5  # the customer's last messages quoted in the email


@functools.lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    return yaml.safe_load((ROOT / "locales" / "handoff.yml").read_text(encoding="utf-8"))


def text(key: str, language: str, **values: Any) -> str:
    variants = _texts()[key]
    return variants.get(language, variants["en"]).format(**values)


@dataclass
class UnclaimedSweep:
    """Run periodically (by every gateway): tells each timed-out customer, once."""

    handoff: HandoffService
    messages: MessageLog

    def run_once(self) -> list[TimedOut]:
        expired = self.handoff.expire_unclaimed()
        minutes = int(self.handoff.settings.unclaimed_timeout_minutes)
        for item in expired:
            # The conversation is the bot's again (the relay resumes Rasa on the next message);
            # an email address typed before that is taken by take_contact_email.
            if item.contact_email:
                notice = text("timed_out_known_email", item.language, minutes=minutes, email=item.contact_email)
            else:
                notice = text("timed_out_ask_email", item.language, minutes=minutes)
            self.messages.record(item.conversation_id, "system", notice)
            log.info("handoff %s was not claimed in time and became a ticket", item.handoff_id)
        return expired


def take_contact_email(
    handoff: HandoffService, messages: MessageLog, conversation_id: str, customer_text: str, language: str
) -> bool:
    """After a timeout we asked for an email: an address in the customer's message goes on the ticket.

    Returns True when it did (the caller then does not send the message to the bot).
    """
    email = extract_email(customer_text)
    if email is None or not handoff.awaiting_contact(conversation_id):
        return False
    handoff.leave_contact(conversation_id, email)
    messages.record(conversation_id, "system", text("contact_saved", language, email=email))
    return True


def _customer_context(url: str, conversation_id: str) -> list[str]:
    with session_scope(url) as session:
        rows = session.execute(
            select(ChatMessage.text)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "customer")
            .order_by(ChatMessage.id.desc())
            .limit(CONTEXT_MESSAGES)
        ).scalars()
        return list(reversed(list(rows)))


def compose_email(language: str, answer: str, agent_name: str, context: list[str]) -> tuple[str, str]:
    """(subject, body) in the customer's language: greeting, the answer, what they wrote, signature."""
    lines = [text("email_greeting", language), "", answer.strip(), ""]
    if context:
        lines += [text("email_context", language), *(f"> {line}" for line in context), ""]
    lines.append(text("email_signature", language, agent=agent_name))
    return text("email_subject", language), "\n".join(lines) + "\n"


def answer_ticket_by_email(
    handoff: HandoffService, messages: MessageLog, secret: bytes, handoff_id: int, agent: Any, answer: str
) -> dict[str, Any]:
    """Queue the email (sealed, like all outbox mail), keep the promise, and put the answer
    into the customer's chat history."""
    ticket = handoff.record_email_answer(handoff_id, agent.id, answer)
    subject, body = compose_email(
        ticket.language, answer, agent.display_name, _customer_context(handoff.url, ticket.conversation_id)
    )
    with session_scope(handoff.url) as session:
        session.add(OutboxEmail(to_address=ticket.contact_email, subject=subject, body=seal(secret, body)))
    message, _ = messages.record(ticket.conversation_id, "agent", answer, agent_name=agent.display_name)
    return {"to": ticket.contact_email, "message": message}
