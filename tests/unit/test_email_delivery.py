"""EmailChannel.deliver: how a reply fails (retried or for good), against a real aiosmtpd server."""

from __future__ import annotations

import pytest

from bot.channels.base import Button, DeliveryError, OutboundMessage
from bot.channels.email import EmailChannel, thread_of
from bot.migrations import init_db
from bot.settings import EmailSettings, SmtpSettings
from tests.support.mail import MailServer
from tests.support.stack import free_port

EMAIL = EmailSettings(imap_host="127.0.0.1", imap_user="support@shop.example", address="support@shop.example")


def channel(sqlite_url: str, port: int) -> EmailChannel:
    init_db(sqlite_url)
    return EmailChannel(sqlite_url, SmtpSettings(host="127.0.0.1", port=port, starttls=False), EMAIL, "Shop")


def test_an_unreachable_smtp_server_is_retried(sqlite_url: str) -> None:
    with pytest.raises(DeliveryError) as failed:
        channel(sqlite_url, free_port()).deliver(thread_of("anna@example.sk", "0123456789abcdef"), OutboundMessage(1, "bot", "hi"))
    assert not failed.value.permanent


def test_a_thread_that_is_not_an_email_thread_fails_for_good(sqlite_url: str) -> None:
    with pytest.raises(DeliveryError) as failed:
        channel(sqlite_url, free_port()).deliver("5550001", OutboundMessage(1, "bot", "hi"))
    assert failed.value.permanent


def test_a_reply_names_its_thread_and_is_marked_automatic(sqlite_url: str) -> None:
    with MailServer() as mail:
        channel(sqlite_url, mail.port).deliver(
            thread_of("anna@example.sk", "0123456789abcdef"),
            OutboundMessage(7, "bot", "Pick one", buttons=(Button("Yes", "/affirm"), Button("No", "/deny"))),
        )
        [sent] = mail.messages
    assert sent["To"] == "anna@example.sk" and sent["From"] == "support@shop.example"
    assert sent["Reply-To"] == "support+0123456789abcdef@shop.example"
    assert sent["Message-ID"].startswith("<t.0123456789abcdef.7x")
    assert sent["Auto-Submitted"] == "auto-replied" and sent["In-Reply-To"] is None  # no customer mail stored
    assert "1. Yes" in MailServer.text(sent) and "2. No" in MailServer.text(sent)
