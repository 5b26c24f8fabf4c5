"""``python -m bot privacy export|list|erase EMAIL`` and ``python -m bot privacy purge``.

``erase`` lists each conversation it found first, and asks before it erases (``--yes`` answers).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.privacy import FoundConversation, PrivacyService


def register(commands: argparse._SubParsersAction) -> None:
    privacy = commands.add_parser("privacy", help="export or erase one customer's data; apply retention")
    sub = privacy.add_subparsers(dest="privacy_command", required=True)
    export = sub.add_parser("export", help="print everything held about EMAIL as JSON")
    export.add_argument("email")
    export.set_defaults(handler=run_export)
    listing = sub.add_parser("list", help="list the conversations an export or erase of EMAIL covers")
    listing.add_argument("email")
    listing.set_defaults(handler=run_list)
    erase = sub.add_parser("erase", help="erase EMAIL's conversations, Rasa trackers and mail (lists them first)")
    erase.add_argument("email")
    erase.add_argument("--yes", action="store_true", help="erase what is listed without asking")
    erase.set_defaults(handler=run_erase)
    purge = sub.add_parser("purge", help="erase everything older than privacy.retention_days, once")
    purge.set_defaults(handler=run_purge)


def _service() -> PrivacyService:
    from bot import composition

    return composition.privacy_service()


def run_export(args: argparse.Namespace) -> int:
    try:
        data = _service().export(args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    print()
    return 0


def _print_found(found: list[FoundConversation]) -> None:
    print(f"{len(found)} conversation(s) found:", file=sys.stderr)
    for conversation in found:
        print(f"  {conversation.describe()}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    try:
        found = _service().find(args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_found(found)
    return 0


def run_erase(args: argparse.Namespace) -> int:
    service = _service()
    try:
        found = service.find(args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_found(found)
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not erased; confirm with --yes (or run it in a terminal)", file=sys.stderr)
            return 2
        if input("Erase these, the mail to the address and its Rasa trackers? [y/N] ").strip().lower() != "y":
            print("not erased", file=sys.stderr)
            return 1
    # Only what was listed: a conversation found in between waits for the next erase.
    removed = service.erase(args.email, only={f.ref for f in found})
    print(
        json.dumps(
            {"conversations": [f.ref for f in found], "erased": removed.counts, "total": removed.total()}
        )
    )
    print(
        "The shop account, orders and returns are the shop's records and were kept; "
        "delete the account in the shop itself if asked to.",
        file=sys.stderr,
    )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    removed = _service().purge_expired()
    print(json.dumps({"purged": removed.counts, "total": removed.total()}))
    return 0
