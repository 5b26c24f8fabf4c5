"""A real SMTP server for tests (aiosmtpd on loopback) that keeps every message it receives.

    with MailServer() as mail:
        env = {**mail.env, ...}            # SMTP_HOST / SMTP_PORT / SMTP_STARTTLS for the bot
        message = mail.wait_for(lambda m: m["To"] == "anna@example.sk")
        mail.text(message)                 # the decoded body

Used by every test that checks what the bot mails (reset links, return labels, ticket answers).
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.stack import free_port


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._keeper = _Keeper()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def env(self) -> dict[str, str]:
        """The bot's settings for this server (plain SMTP on loopback)."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "0"}

    @property
    def messages(self) -> list[EmailMessage]:
        with self._keeper.lock:
            return list(self._keeper.messages)

    def wait_for(self, match: Callable[[EmailMessage], bool], timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if match(message):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no such mail reached the SMTP server in {timeout}s; got {len(self.messages)}")

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""
