"""Email on the real stack: Rasa, the action server, the gateway and the worker run; the worker
reads Debian's Dovecot over IMAP (started here on the stack's imap_port) and the replies reach the
session's aiosmtpd server. Nothing is a stand-in.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from tests.support.console import AgentConsole, agents_offline
from tests.support.dovecot import Dovecot
from tests.support.mail import MailServer
from tests.support.stack import IMAP_USER, Stack

pytestmark = pytest.mark.stack
PASSWORD = "email agent password"


@pytest.fixture(scope="module")
def mailbox(stack: Stack) -> Iterator[Dovecot]:
    with Dovecot(port=stack.imap_port) as dovecot:
        yield dovecot


def database_url(stack: Stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{stack.workdir / 'var' / 'app.db'}"


def send(mailbox: Dovecot, sender: str, body: str, **headers: str) -> str:
    message = EmailMessage()
    message["From"], message["To"] = sender, IMAP_USER
    message["Subject"] = headers.pop("Subject", "Question")
    message_id = f"<{secrets.token_hex(8)}@customer.example>"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    mailbox.deliver(message.as_bytes())
    return message_id


def wait_for_handoff(url: str, address: str, timeout: float) -> int | None:
    from bot.db import session_scope
    from bot.handoff.models import Handoff
    from bot.messages.models import Conversation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            handoff_id = session.scalar(
                select(Handoff.id)
                .join(Conversation, Conversation.id == Handoff.conversation_id)
                .where(Conversation.channel == "email", Conversation.channel_thread.startswith(address + " "))
            )
        if handoff_id is not None:
            return handoff_id
        time.sleep(0.5)
    return None


def customer() -> str:
    return f"customer.{secrets.token_hex(4)}@example.sk"


def test_an_emailed_faq_question_is_answered_in_the_same_thread(
    stack: Stack, stack_mail: MailServer, mailbox: Dovecot
) -> None:
    address = customer()
    asked = send(mailbox, address, "Hello,\nhow much does shipping cost?\n\n-- \nAnna Kováčová")
    reply = stack_mail.wait_for(lambda m: m["To"] == address, timeout=90)
    assert reply["In-Reply-To"] == asked
    text = MailServer.text(reply)
    assert "GLS" in text and "Packeta" in text, text  # the shipping FAQ answer
    assert "{{" not in text


def test_an_autoresponder_gets_no_reply(stack: Stack, stack_mail: MailServer, mailbox: Dovecot) -> None:
    robot = customer()
    send(mailbox, robot, "I am out of the office until Monday.", Auto_Submitted="auto-replied")
    control = customer()  # a person writing after it: once answered, the robot's mail was read too
    send(mailbox, control, "how much does shipping cost?")
    stack_mail.wait_for(lambda m: m["To"] == control, timeout=90)
    time.sleep(3)
    assert not [m for m in stack_mail.messages if m["To"] == robot]


def test_an_order_question_handed_to_a_person_gets_the_agents_answer_in_the_thread(
    stack: Stack, stack_mail: MailServer, mailbox: Dovecot
) -> None:
    from bot.handoff.agents import authenticate, set_presence, upsert_agent

    url = database_url(stack)
    address = customer()
    upsert_agent(url, "mail-agent", PASSWORD, "Eva")
    set_presence(url, authenticate(url, "mail-agent", PASSWORD).id, "online")
    console = AgentConsole(stack.url, "mail-agent", PASSWORD)
    try:
        asked = send(mailbox, address, "I want to talk to a person about my order, please.")
        first = stack_mail.wait_for(lambda m: m["To"] == address, timeout=90)
        assert first["In-Reply-To"] == asked
        handoff_id = wait_for_handoff(url, address, 20)
        if handoff_id is None:  # the bot offered a choice first: the customer picks it by its number
            choice = re.search(r"^(\d+)\. Talk to a person", MailServer.text(first).replace("\r", ""), re.M)
            assert choice, MailServer.text(first)
            send(mailbox, address, choice.group(1), In_Reply_To=first["Message-ID"], References=first["Message-ID"])
            handoff_id = wait_for_handoff(url, address, 60)
        assert handoff_id is not None, [MailServer.text(m) for m in stack_mail.messages if m["To"] == address]
        console.claim(handoff_id)
        console.reply(handoff_id, "Hello, this is Eva. Your kettle ships tomorrow.")
        answer = stack_mail.wait_for(
            lambda m: m["To"] == address and "Your kettle ships tomorrow" in MailServer.text(m), timeout=60
        )
        assert asked in answer["References"]  # the same thread (In-Reply-To: the last mail of it)
        assert "Eva: Hello, this is Eva." in MailServer.text(answer)
        console.resolve(handoff_id)
    finally:
        agents_offline(url, "mail-agent")  # later tests expect nobody online
