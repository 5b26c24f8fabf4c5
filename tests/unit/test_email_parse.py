"""Reading mails for the email channel: sender, receipt, thread, refusals, quotes and signatures.

Sample mails written for these tests, in the shapes common clients send (Gmail, Outlook,
Thunderbird, Apple Mail, Yandex, Seznam/Zoznam, Freemail), auto-replies and bounces.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.channels.email.parse import (
    MAX_MAIL_BYTES,
    MailRefused,
    Refusal,
    html_to_text,
    new_token,
    parse_mail,
    strip_quotes,
)

OWN = frozenset({"support@shop.example"})
TOKEN = "0123456789abcdef"


def mail(body: str = "Where is my parcel?", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Anna Kovács <Anna.Kovacs@Example.HU>")
    message["To"] = headers.pop("To", "support@shop.example")
    message["Subject"] = headers.pop("Subject", "Parcel")
    message["Message-ID"] = headers.pop("Message_ID", "<abc123@mail.example.hu>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def test_a_new_mail_gives_sender_receipt_and_a_new_thread() -> None:
    parsed = parse_mail(mail(), OWN)
    assert parsed.sender == "anna.kovacs@example.hu"
    assert parsed.message_id == "<abc123@mail.example.hu>"
    assert parsed.text == "Where is my parcel?"
    assert parsed.subject == "Parcel"
    assert not parsed.continues
    assert parsed.token == new_token("<abc123@mail.example.hu>")  # a resent first mail finds it again


def test_a_reply_to_our_message_id_continues_its_thread() -> None:
    parsed = parse_mail(
        mail(In_Reply_To=f"<t.{TOKEN}.12x9f@shop.example>", References=f"<x@y> <t.{TOKEN}.12x9f@shop.example>"),
        OWN,
    )
    assert parsed.continues and parsed.token == TOKEN


def test_a_reply_to_someone_elses_message_id_starts_a_thread() -> None:
    parsed = parse_mail(mail(In_Reply_To="<t.nothex.1@other.example>"), OWN)
    assert not parsed.continues


def test_a_plus_address_token_continues_its_thread() -> None:
    parsed = parse_mail(mail(To=f"Support <support+{TOKEN}@shop.example>"), OWN)
    assert parsed.continues and parsed.token == TOKEN


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, Refusal.AUTO_REPLY),
        ({"Auto_Submitted": "auto-generated"}, Refusal.AUTO_REPLY),
        ({"X_Autoreply": "yes"}, Refusal.AUTO_REPLY),
        ({"X_Autorespond": "Out of office"}, Refusal.AUTO_REPLY),
        ({"Precedence": "bulk"}, Refusal.AUTO_REPLY),
        ({"Precedence": "junk"}, Refusal.AUTO_REPLY),
        ({"Precedence": "list"}, Refusal.MAILING_LIST),
        ({"List_Id": "<news.shop.example>"}, Refusal.MAILING_LIST),
        ({"List_Unsubscribe": "<mailto:unsub@list.example>"}, Refusal.MAILING_LIST),
        ({"Return_Path": "<>"}, Refusal.BOUNCE),
        ({"From": "MAILER-DAEMON@mx.example.hu"}, Refusal.BOUNCE),
        ({"From": "Mail Delivery System <postmaster@mx.example.hu>"}, Refusal.BOUNCE),
        ({"From": "Support <SUPPORT@shop.example>"}, Refusal.OWN_ADDRESS),
        ({"From": "not an address"}, Refusal.NO_SENDER),
    ],
)
def test_mails_never_answered_are_refused(headers: dict[str, str], reason: Refusal) -> None:
    with pytest.raises(MailRefused) as refused:
        parse_mail(mail(**headers), OWN)
    assert refused.value.reason is reason


def test_auto_submitted_no_is_a_person() -> None:
    assert parse_mail(mail(Auto_Submitted="no"), OWN).sender == "anna.kovacs@example.hu"


def test_an_oversized_mail_is_refused_unread() -> None:
    with pytest.raises(MailRefused) as refused:
        parse_mail(b"From: a@b.example\r\n\r\n" + b"x" * (MAX_MAIL_BYTES + 1))
    assert refused.value.reason is Refusal.OVERSIZED


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG",
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain; charset=nonsense-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%notbase64\r\n",
    ],
)
def test_malformed_mail_is_refused_or_read_without_crashing(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw, OWN)
    except MailRefused as exc:
        assert exc.reason in (Refusal.MALFORMED, Refusal.NO_SENDER)
    else:  # the stdlib parser is lenient: then the mail is read, with a receipt
        assert parsed.sender == "a@b.example" and parsed.message_id


def test_a_mail_without_message_id_gets_a_stable_receipt() -> None:
    raw = b"From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n"
    assert parse_mail(raw).message_id == parse_mail(raw).message_id != ""


def test_html_only_mail_is_read_as_text() -> None:
    message = EmailMessage()
    message["From"], message["Message-ID"] = "ivan@example.ru", "<h1@example.ru>"
    message.set_content(
        "<html><head><style>p{}</style></head><body><p>Где мой заказ&nbsp;1234?</p>"
        "<blockquote>старое письмо</blockquote><script>alert(1)</script></body></html>",
        subtype="html",
    )
    parsed = parse_mail(message.as_bytes())
    assert "Где мой заказ 1234?" in parsed.text
    assert "старое" not in parsed.text and "alert" not in parsed.text


def test_text_plain_is_preferred_over_html() -> None:
    message = EmailMessage()
    message["From"], message["Message-ID"] = "a@b.example", "<p@b>"
    message.set_content("plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    assert parse_mail(message.as_bytes()).text == "plain words"


def test_attachments_are_handed_on() -> None:
    message = EmailMessage()
    message["From"], message["Message-ID"] = "a@b.example", "<att@b>"
    message.set_content("photo of the damage")
    message.add_attachment(b"\x89PNG\r\n\x1a\nrest", maintype="image", subtype="png", filename="damage.png")
    parsed = parse_mail(message.as_bytes())
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("damage.png", "image/png")]


def test_an_empty_body_falls_back_to_the_subject() -> None:
    assert parse_mail(mail(body="\n", Subject="How long does delivery take?")).text == "How long does delivery take?"


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Thanks, it works.\n\nOn Mon, 1 Dec 2026 at 10:00, Shop <support@shop.example> wrote:\n> old", "Thanks, it works."),
        ("Thanks.\n\nOn Mon, 1 Dec 2026 at 10:00, Shop\n<support@shop.example> wrote:\n> old", "Thanks."),
        ("Спасибо!\n\n1 дек. 2026 г., в 10:00, Магазин <support@shop.example> написал(а):\n> старое", "Спасибо!"),
        ("Спасибо!\n\nПн, 1 дек. 2026 в 10:00 Магазин пишет:\n> старое", "Спасибо!"),
        ("Ďakujem.\n\nDňa 1. 12. 2026 o 10:00 Obchod <support@shop.example> napísal(a):\n> staré", "Ďakujem."),
        ("Köszönöm.\n\n2026. dec. 1., hétf 10:00 Bolt <support@shop.example> írta:\n> régi", "Köszönöm."),
        (
            "Still waiting.\n\n________________________________\nFrom: Shop <support@shop.example>\nSent: Monday\nSubject: Re",
            "Still waiting.",
        ),
        ("Still waiting.\n\nFrom: Shop <support@shop.example>\nSent: Monday, 1 December\nTo: me", "Still waiting."),
        ("Where is order 1234?\n-- \nAnna Kovács\nCEO, Example Kft.", "Where is order 1234?"),
        ("> quoted line\nmy answer\n> another", "my answer"),
        ("-----Original Message-----\nold", ""),
    ],
)
def test_quotes_and_signatures_are_stripped(body: str, kept: str) -> None:
    assert strip_quotes(body) == kept


def test_from_in_the_middle_of_text_is_kept() -> None:
    assert strip_quotes("From: my old address I wrote before.\nPlease update it.") == (
        "From: my old address I wrote before.\nPlease update it."
    )


def test_html_to_text_keeps_lines() -> None:
    assert html_to_text("<div>one</div><div>two<br>three</div>").split() == ["one", "two", "three"]
