"""What the bot promises by mail arrives, on the real stack, at a real SMTP server (aiosmtpd):
the password-reset link and the return label."""

from __future__ import annotations

import re

import pytest

from tests.support.mail import MailServer
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def texts(messages: list[dict]) -> str:
    return " | ".join(m.get("text") or "" for m in messages)


def test_the_reset_link_arrives(stack: Stack, stack_mail: MailServer) -> None:
    session = stack.new_session()
    asked = texts(stack.say(session, "I forgot my password"))
    assert "email" in asked.lower(), asked
    promised = texts(stack.say(session, "ivan.petrov@example.ru"))
    assert "sent it a link" in promised, promised
    # This address may have had other mail earlier in the run (a return label): wait for the reset.
    mail = stack_mail.wait_for(
        lambda m: m["To"] == "ivan.petrov@example.ru" and "reset?token=" in MailServer.text(m)
    )
    assert re.search(r"https?://\S+reset\?token=[\w-]{20,}", MailServer.text(mail))
    assert "{{" not in MailServer.text(mail) + str(mail["Subject"]), "shop facts must be filled in"


def test_the_return_label_arrives(stack: Stack, stack_mail: MailServer) -> None:
    session = stack.new_session()
    stack.say(session, "where is my order 482913?")
    assert "GLS482913SK" in texts(stack.say(session, "anna.kovacova@example.sk"))
    stack.say(session, "I want to return the kettle")
    done = texts(stack.say(session, "it leaks"))
    rma = re.search(r"RMA-[0-9A-F]+", done)
    assert rma, done
    # Created now or by an earlier test of this run: either way the label was mailed here.
    label = stack_mail.wait_for(lambda m: rma.group(0) in str(m["Subject"]))
    assert label["To"] == "anna.kovacova@example.sk" and rma.group(0) in MailServer.text(label)
    assert "{{" not in MailServer.text(label), "shop facts (return window, shop name) must be filled in"
    assert re.search(r"\b30\b", MailServer.text(label))  # shop.yml: policies.return_window_days
