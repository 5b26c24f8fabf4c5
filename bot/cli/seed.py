"""``python -m bot seed``: create the tables and the demo shop data."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    seed = commands.add_parser("seed", help="create tables and demo orders, print them")
    seed.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from bot.db import OutdatedSchema
    from bot.migrations import init_db
    from bot.settings import load_settings
    from bot.shop.seed import seed_demo_data

    try:
        url = load_settings().database_url
        init_db(url)
        orders = seed_demo_data(url)
    except OutdatedSchema as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("Demo orders (order number / email / status):")
    for number, email, status in orders:
        print(f"  {number}  {email:28s} {status}")
    return 0
