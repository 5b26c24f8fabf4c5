"""Tickets: a handoff nobody claimed in time becomes one, and an agent answers it by email.

Texts come from locales/handoff.yml (data, in the four languages); mail goes
through the outbox (bot.shop.mailer), so a mail server that is down loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.service import HandoffService, TimedOut
from bot.handoff.texts import text
from bot.messages.log import MessageLog
from bot.messages.models import ChatMessage
from bot.profile.model import ShopProfile
from bot.profile.render import render
from bot.shop.mailer import seal
from bot.shop.models import OutboxEmail
from bot.shop.security import extract_email

log = logging.getLogger(__name__)
CONTEXT_MESSAGES = 5  # the customer's last messages quoted in the email


@dataclass
class UnclaimedSweep:
    """Run periodically (by every gateway): tells each timed-out customer, once."""

    handoff: HandoffService
    messages: MessageLog
    # Without a mail server the customer is not promised an email reply.
    mail_delivered: bool = True

    def run_once(self) -> list[TimedOut]:
        expired = self.handoff.expire_unclaimed()
        minutes = int(self.handoff.settings.unclaimed_timeout_minutes)
        for item in expired:
            # The conversation is the bot's again (the relay resumes Rasa on the next message);
            # an email address typed before that is taken by take_contact_email.
            if not self.mail_delivered:
                notice = text("timed_out_no_mail", item.language, minutes=minutes)
            elif item.contact_email:
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


def compose_email(
    language: str, answer: str, agent_name: str, context: list[str], shop: ShopProfile | None = None
) -> tuple[str, str]:
    """(subject, body) in the customer's language: greeting, the answer, what they wrote, signature;
    with ``shop``, its facts ({{ shop.name }}) filled in (else the mailer fills them as it sends)."""
    lines = [text("email_greeting", language), "", answer.strip(), ""]
    if context:
        lines += [text("email_context", language), *(f"> {line}" for line in context), ""]
    lines.append(text("email_signature", language, agent=agent_name))
    subject, body = text("email_subject", language), "\n".join(lines) + "\n"
    if shop is None:
        return subject, body
    return render(subject, shop, language), render(body, shop, language)


def answer_ticket_by_email(
    handoff: HandoffService,
    messages: MessageLog,
    secret: bytes,
    handoff_id: int,
    agent: Any,
    answer: str,
    shop: ShopProfile | None = None,
) -> dict[str, Any]:
    """Queue the email (sealed, like all outbox mail), keep the promise, and put the answer
    into the customer's chat history."""
    ticket = handoff.record_email_answer(handoff_id, agent.id, answer)
    subject, body = compose_email(
        ticket.language, answer, agent.display_name, _customer_context(handoff.url, ticket.conversation_id), shop
    )
    with session_scope(handoff.url) as session:
        session.add(OutboxEmail(to_address=ticket.contact_email, subject=subject, body=seal(secret, body)))
    message, _ = messages.record(ticket.conversation_id, "agent", answer, agent_name=agent.display_name)
    return {"to": ticket.contact_email, "message": message}
