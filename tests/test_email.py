"""The email channel against real servers: Debian's Dovecot (IMAP, started by the test from a
temporary config) and aiosmtpd (SMTP), with a real SQLite message log. Rasa is a small local HTTP
server with fixed answers here; the real one answers in tests/e2e/test_email.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.db import session_scope
from bot.messages.models import ChatMessage, Conversation, InboundReceipt
from bot.worker import email_poller, poll_email
from tests.conftest import build_test_services
from tests.support import stack as stack_support
from tests.support.dovecot import Dovecot
from tests.support.mail import MailServer

SUPPORT = "support@shop.example"


class RasaStandIn(BaseHTTPRequestHandler):
    received: list[str] = []  # noqa: RUF012 - shared by the handler threads on purpose

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RasaStandIn.received.append(body["message"])
        reply: dict = {"text": f"answer to: {body['message']}"}
        if body["message"] == "What can you do?":
            reply["buttons"] = [
                {"title": "Where is my order?", "payload": "/order_status"},
                {"title": "Talk to a person", "payload": "/request_human"},
            ]
        data = json.dumps([reply]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def email_stack(tmp_path: Path) -> Iterator[tuple]:
    RasaStandIn.received = []
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), RasaStandIn)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    (tmp_path / "email").mkdir()
    settings_file = stack_support.test_settings_file(
        tmp_path / "email", {"limits": {"channel_messages_per_minute": 3}}
    )
    settings = yaml.safe_load(settings_file.read_text())
    settings["channels"] = ["widget", "email"]
    settings_file.write_text(yaml.safe_dump(settings))
    with Dovecot() as imap, MailServer() as smtp:
        services = build_test_services(
            tmp_path,
            BOT_SETTINGS=str(settings_file),
            RASA_URL=f"http://127.0.0.1:{rasa.server_address[1]}",
            SMTP_FROM=SUPPORT,
            **smtp.env,
            **imap.env,
        )
        try:
            yield services, imap, smtp
        finally:
            services.close()
            rasa.shutdown()


def customer_mail(body: str, message_id: str, sender: str = "Anna <anna@example.sk>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, SUPPORT, headers.pop("Subject", "Delivery")
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def customer_texts(services) -> list[str]:
    with session_scope(services.database_url) as session:
        return list(
            session.scalars(select(ChatMessage.text).where(ChatMessage.sender == "customer").order_by(ChatMessage.id))
        )


def test_a_question_is_answered_in_its_thread_and_the_reply_continues_it(email_stack) -> None:
    services, imap, smtp = email_stack
    imap.deliver(customer_mail("How long does delivery take?\n\n-- \nAnna\nSent from my phone", "<q1@example.sk>"))
    result = poll_email(services)
    assert result["stored"] == 1
    reply = smtp.wait_for(lambda m: m["To"] == "anna@example.sk")
    assert MailServer.text(reply).strip() == "answer to: How long does delivery take?"
    assert reply["In-Reply-To"] == "<q1@example.sk>" and reply["References"] == "<q1@example.sk>"
    assert reply["Subject"] == f"Re: {services.settings.shop.name}"  # the customer's subject is not kept yet
    assert reply["Auto-Submitted"] == "auto-replied"  # other robots do not answer it back
    assert all("\\Seen" in flags for flags in imap.flags())

    # The customer answers our mail (quoting it): the same conversation continues.
    imap.deliver(
        customer_mail(
            f"And to Hungary?\n\nOn Fri, 4 Dec 2026, {SUPPORT} wrote:\n> answer to: How long",
            "<q2@example.sk>",
            Subject="Re: Delivery",
            In_Reply_To=reply["Message-ID"],
            References=f"<q1@example.sk> {reply['Message-ID']}",
        )
    )
    assert poll_email(services)["stored"] == 1
    second = smtp.wait_for(lambda m: m["In-Reply-To"] == "<q2@example.sk>")
    assert MailServer.text(second).strip() == "answer to: And to Hungary?"
    assert RasaStandIn.received == ["How long does delivery take?", "And to Hungary?"]
    with session_scope(services.database_url) as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.channel == "email" and conversation.channel_thread.startswith("anna@example.sk ")


def test_another_sender_with_the_thread_token_gets_a_conversation_of_their_own(email_stack) -> None:
    services, imap, smtp = email_stack
    imap.deliver(customer_mail("Where is my parcel?", "<a1@example.sk>"))
    poll_email(services)
    reply = smtp.wait_for(lambda m: m["To"] == "anna@example.sk")
    imap.deliver(
        customer_mail("Show me Anna's order", "<m1@evil.example>", sender="mallory@evil.example", In_Reply_To=reply["Message-ID"])
    )
    poll_email(services)
    smtp.wait_for(lambda m: m["To"] == "mallory@evil.example")
    with session_scope(services.database_url) as session:
        threads = sorted(session.scalars(select(Conversation.channel_thread)).all())
    assert len(threads) == 2 and threads[0].startswith("anna@") and threads[1].startswith("mallory@")
    assert threads[0].split()[1] == threads[1].split()[1]  # same token, separate conversations


def test_autoresponders_bounces_and_lists_are_refused_in_the_log_and_not_answered(email_stack, caplog) -> None:
    services, imap, smtp = email_stack
    imap.deliver(customer_mail("I am out of office until Monday.", "<ooo@example.sk>", Auto_Submitted="auto-replied"))
    imap.deliver(customer_mail("Delivery failed", "<b@mx>", sender="MAILER-DAEMON@mx.example.sk"))
    imap.deliver(customer_mail("Newsletter", "<n@list>", List_Id="<news.example.sk>"))
    imap.deliver(customer_mail("loop", "<own@shop>", sender=SUPPORT))
    with caplog.at_level("WARNING", logger="bot.channels.email.imap"):
        result = poll_email(services)
    assert result["stored"] == 0
    assert result["refused"] == {"auto_reply": 1, "bounce": 1, "mailing_list": 1, "own_address": 1}
    assert sum("refused" in record.getMessage() for record in caplog.records) == 4
    assert customer_texts(services) == [] and smtp.messages == [] and RasaStandIn.received == []
    assert len(imap.flags()) == 4  # still in the mailbox, nothing lost


def test_a_poller_killed_before_marking_seen_stores_nothing_twice(email_stack) -> None:
    services, imap, _ = email_stack
    imap.deliver(customer_mail("Do you ship to Slovakia?", "<k1@example.sk>"))
    poller = email_poller(services)
    assert poller is not None
    poller._seen = lambda client, uid: (_ for _ in ()).throw(KeyboardInterrupt())  # dies right after storing
    with pytest.raises(KeyboardInterrupt):
        poller.poll_once()
    assert customer_texts(services) == ["Do you ship to Slovakia?"]
    assert not any("\\Seen" in flags for flags in imap.flags())  # read again by the next poll

    result = poll_email(services)  # a fresh process
    assert result["stored"] == 0 and result["duplicates"] == 1
    assert customer_texts(services) == ["Do you ship to Slovakia?"]
    with session_scope(services.database_url) as session:
        assert session.scalar(select(func.count()).select_from(InboundReceipt)) == 1
    assert all("\\Seen" in flags for flags in imap.flags())


def test_a_mail_bomb_is_refused_in_the_log_and_kept_for_later(email_stack, caplog) -> None:
    services, imap, _ = email_stack
    for number in range(6):
        imap.deliver(customer_mail(f"question {number}", f"<bomb{number}@example.sk>", sender="bomber@example.sk"))
    imap.deliver(customer_mail("A real question", "<ok@example.hu>", sender="eva@example.hu"))
    with caplog.at_level("WARNING", logger="bot.channels.email.imap"):
        result = poll_email(services)
    assert result["stored"] == 4 and result["deferred"] == 3  # limit 3 a minute per sender
    assert "A real question" in customer_texts(services)
    assert sum("per-sender limit" in record.getMessage() for record in caplog.records) == 3
    assert sum("\\Seen" not in flags for flags in imap.flags()) == 3  # left unseen: not lost


def test_the_worker_has_an_email_job_only_when_configured(email_stack) -> None:
    from bot.worker import jobs_from

    services, _, _ = email_stack
    assert "email-polling" in [job.name for job in jobs_from(services.settings)]


def test_attachments_are_checked_and_kept_for_the_agent_and_hostile_ones_refused(email_stack, caplog) -> None:
    import io

    from PIL import Image

    services, imap, _ = email_stack
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(picture, format="PNG")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "anna@example.sk", SUPPORT, "Broken kettle"
    message["Message-ID"] = "<att1@example.sk>"
    message.set_content("The kettle arrived broken, photo attached.")
    message.add_attachment(picture.getvalue(), maintype="image", subtype="png", filename="kettle.png")
    message.add_attachment(b"MZ\x90\x00 not a picture", maintype="application", subtype="octet-stream", filename="invoice.exe")
    imap.deliver(message.as_bytes())
    imap.deliver(message.as_bytes())  # the same mail twice: stored once, files too
    with caplog.at_level("WARNING", logger="bot.channels.email.imap"):
        result = poll_email(services)
    assert result["stored"] == 1 and result["duplicates"] == 1
    assert any("attachment 1 of a mail refused" in record.getMessage() for record in caplog.records)
    assert services.attachments.count() == 1
    with session_scope(services.database_url) as session:
        rows = session.execute(
            select(ChatMessage.text, ChatMessage.attachment_id).where(ChatMessage.sender == "customer").order_by(ChatMessage.id)
        ).all()
    assert rows[0] == ("The kettle arrived broken, photo attached.", None)
    assert len(rows) == 2 and rows[1].attachment_id is not None


def test_choices_are_numbered_lines_and_a_reply_naming_one_picks_it(email_stack) -> None:
    services, imap, smtp = email_stack
    imap.deliver(customer_mail("What can you do?", "<c1@example.sk>"))
    poll_email(services)
    offer = smtp.wait_for(lambda m: m["To"] == "anna@example.sk")
    assert "1. Where is my order?\n2. Talk to a person" in MailServer.text(offer).replace("\r\n", "\n")
    imap.deliver(customer_mail(f"2\n\nOn Fri, {SUPPORT} wrote:\n> 1. Where", "<c2@example.sk>", In_Reply_To=offer["Message-ID"]))
    poll_email(services)
    smtp.wait_for(lambda m: m["In-Reply-To"] == "<c2@example.sk>")
    imap.deliver(customer_mail("talk to a person", "<c3@example.sk>", In_Reply_To=offer["Message-ID"]))
    poll_email(services)  # the choice was answered already: now these are words
    smtp.wait_for(lambda m: m["In-Reply-To"] == "<c3@example.sk>")
    assert RasaStandIn.received[1] == "/request_human"
    assert RasaStandIn.received[2] == "talk to a person"
