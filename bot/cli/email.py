"""``python -m bot email poll``: read the support mailbox once (the worker does it every EMAIL_POLL_SECONDS)."""

from __future__ import annotations

import argparse
import json


def register(commands: argparse._SubParsersAction) -> None:
    email = commands.add_parser("email", help="the email channel")
    sub = email.add_subparsers(dest="email_command", required=True)
    poll = sub.add_parser("poll", help="read new mail over IMAP once, answer it, send the replies")
    poll.set_defaults(handler=run_poll)


def run_poll(args: argparse.Namespace) -> int:
    from bot.composition import services
    from bot.worker import poll_email

    result = poll_email(services())
    print(json.dumps(result))
    return 0 if result.get("email") != "off" else 1
