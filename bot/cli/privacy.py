"""``python -m bot privacy export|erase EMAIL`` and ``python -m bot privacy purge``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.privacy import PrivacyService


def register(commands: argparse._SubParsersAction) -> None:
    privacy = commands.add_parser("privacy", help="export or erase one customer's data; apply retention")
    sub = privacy.add_subparsers(dest="privacy_command", required=True)
    export = sub.add_parser("export", help="print everything held about EMAIL as JSON")
    export.add_argument("email")
    export.set_defaults(handler=run_export)
    erase = sub.add_parser("erase", help="erase EMAIL's conversations, Rasa trackers and mail")
    erase.add_argument("email")
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


def run_erase(args: argparse.Namespace) -> int:
    try:
        removed = _service().erase(args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"erased": removed.counts, "total": removed.total()}))
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
