"""Reading one raw mail (RFC 5322, stdlib ``email`` with policy=default) into what the channel needs.

Decides, before anything reaches the bot: who wrote (the exact, normalised From address), the
receipt (Message-ID), which thread it continues (our own Message-IDs in In-Reply-To/References,
else the token of a ``support+<token>@`` address), whether it must never be answered (auto-replies,
bounces, lists, our own address), and the new text without quoted replies and signatures.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from bot.channels.base import Attachment

MAX_MAIL_BYTES = 10 * 1024 * 1024  # larger mails are refused (logged), not parsed
MAX_TEXT_CHARS = 4000  # what the bot reads of one mail's new text
# Our outbound Message-IDs: <t.<token>.<random>@<domain>>; the token names the thread.
OUR_ID = re.compile(r"<t\.([0-9a-f]{16})\.[0-9a-z]+@[^>]+>")
PLUS_TOKEN = re.compile(r"^[^+@]+\+([0-9a-f]{16})@", re.IGNORECASE)


class Refusal(StrEnum):
    """Why a mail is stored in the log as refused and never answered."""

    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    NO_SENDER = "no_sender"
    AUTO_REPLY = "auto_reply"  # Auto-Submitted, X-Autoreply, X-Autorespond, Precedence
    BOUNCE = "bounce"  # Return-Path <>, MAILER-DAEMON, postmaster
    MAILING_LIST = "mailing_list"  # List-Id, List-Unsubscribe, Precedence list/bulk
    OWN_ADDRESS = "own_address"  # a loop through our own mailbox
    RATE_LIMITED = "rate_limited"  # a mail bomb: too many mails from one sender


class MailRefused(Exception):
    def __init__(self, reason: Refusal, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason


@dataclass(frozen=True)
class ParsedMail:
    sender: str  # exact address, lower-cased
    message_id: str  # with angle brackets
    subject: str
    text: str  # the new text: no quotes, no signature
    token: str  # the thread's token (found, or derived from this Message-ID for a new thread)
    continues: bool  # the token came from the mail (a reply), not derived
    attachments: tuple[Attachment, ...] = ()


def normalise_address(raw: str) -> str:
    _, address = parseaddr(raw or "")
    address = address.strip().lower()
    return address if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address) else ""


def new_token(message_id: str) -> str:
    """A new thread's token, derived from its first Message-ID so a resent first mail finds it."""
    return hashlib.sha256(message_id.encode()).hexdigest()[:16]


def parse_mail(raw: bytes, own_addresses: frozenset[str] = frozenset()) -> ParsedMail:
    """Raises MailRefused (never a parser error) for anything the bot must not answer."""
    if len(raw) > MAX_MAIL_BYTES:
        raise MailRefused(Refusal.OVERSIZED, f"{len(raw)} bytes")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = normalise_address(str(message.get("From", "")))
        message_id = str(message.get("Message-ID", "")).strip()
    except Exception as exc:  # the header parser raises many kinds on hostile input
        raise MailRefused(Refusal.MALFORMED, type(exc).__name__) from exc
    if not isinstance(message, EmailMessage) or (not message.keys() and not message.get_payload()):
        raise MailRefused(Refusal.MALFORMED, "no headers")
    _refuse_automatic(message, sender, own_addresses)
    if not sender:
        raise MailRefused(Refusal.NO_SENDER)
    if not message_id:  # no receipt possible otherwise; a stable one from the content
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    try:
        text = strip_quotes(_body_text(message))
        attachments = _attachments(message)
        subject = str(message.get("Subject", "")).strip()
    except Exception as exc:
        raise MailRefused(Refusal.MALFORMED, type(exc).__name__) from exc
    if not text:
        text = subject
    token = _thread_token(message)
    return ParsedMail(
        sender=sender,
        message_id=message_id,
        subject=subject[:200],
        text=text[:MAX_TEXT_CHARS],
        token=token or new_token(message_id),
        continues=bool(token),
        attachments=attachments,
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except Exception:
        return ""


def _refuse_automatic(message: EmailMessage, sender: str, own: frozenset[str]) -> None:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        raise MailRefused(Refusal.AUTO_REPLY, f"Auto-Submitted: {auto}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if _header(message, name):
            raise MailRefused(Refusal.AUTO_REPLY, name)
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "auto_reply"):
        raise MailRefused(Refusal.AUTO_REPLY, f"Precedence: {precedence}")
    if precedence == "list" or _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        raise MailRefused(Refusal.MAILING_LIST)
    if "Return-Path" in message and _header(message, "Return-Path").replace(" ", "") == "<>":
        raise MailRefused(Refusal.BOUNCE, "Return-Path <>")
    local = sender.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster") or message.get_content_type() == "multipart/report":
        raise MailRefused(Refusal.BOUNCE, local or "delivery report")
    if sender and sender in own:
        raise MailRefused(Refusal.OWN_ADDRESS)


def _thread_token(message: EmailMessage) -> str:
    references = f"{_header(message, 'In-Reply-To')} {_header(message, 'References')}"
    found = OUR_ID.findall(references)
    if found:
        return found[-1]
    recipients = [message.get_all(name, []) for name in ("To", "Cc", "Delivered-To")]
    for _, address in getaddresses([str(v) for values in recipients for v in values]):
        match = PLUS_TOKEN.match(address.strip())
        if match:
            return match.group(1).lower()
    return ""


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if body.get_content_type() == "text/html" else content


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "\n", markup)  # quoted replies
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", markup)
    text = html.unescape(re.sub(r"(?s)<[^>]+>", " ", markup))
    return "\n".join(re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())


# A line that starts the quoted mail in en/ru/sk/hu (and Outlook's header block).
_QUOTE_HEADERS = [
    re.compile(r"^On .+wrote:\s*$", re.IGNORECASE),
    re.compile(r"^.+\s(написал|написала|написал\(а\)|пишет):\s*$", re.IGNORECASE),
    re.compile(r"^.+\s(napísal|napísala|napísal\(a\)|písal\(a\)):\s*$", re.IGNORECASE),
    re.compile(r"^.+\sírta:\s*$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*(Original Message|Исходное сообщение|Pôvodná správa|Eredeti üzenet)\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above From:/Sent:
]
_OUTLOOK_FROM = re.compile(r"^(From|От|Od|Feladó):\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^(Sent|Date|Отправлено|Дата|Odoslané|Dátum|Elküldve|Küldve):\s", re.IGNORECASE)


def strip_quotes(text: str) -> str:
    """The new text of a reply: up to the quote header, a ``-- `` signature, without ``>`` lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if line in ("-- ", "--") or any(p.match(stripped) for p in _QUOTE_HEADERS):
            break
        # "On Mon, 1 Jan 2026 at 10:00, Anna <a@b.sk>" / "wrote:" broken over two lines
        if (
            stripped.startswith("On ")
            and index + 1 < len(lines)
            and lines[index + 1].strip().endswith("wrote:")
        ):
            break
        if _OUTLOOK_FROM.match(stripped) and any(
            _OUTLOOK_NEXT.match(following.strip()) for following in lines[index + 1 : index + 4]
        ):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            found.append(Attachment(part.get_filename() or "attachment", part.get_content_type(), data))
    return tuple(found)


def read(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)
