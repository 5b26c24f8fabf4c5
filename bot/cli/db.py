"""``python -m bot db``: schema migrations (Alembic) for the app database."""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="schema migrations of the app database (Alembic)")
    sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = sub.add_parser("upgrade", help="migrate DATABASE_URL to the newest revision")
    upgrade.add_argument(
        "--create-database", action="store_true", help="create it first if missing (PostgreSQL)"
    )
    upgrade.set_defaults(handler=run_upgrade)
    sub.add_parser("current", help="print the database's and the code's revisions").set_defaults(
        handler=run_current
    )
    sub.add_parser("check", help="fail if the models changed without a revision").set_defaults(
        handler=run_check
    )
    revision = sub.add_parser("revision", help="autogenerate a revision from the model changes")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")
    revision.add_argument("--database-url", help="compare with this database (default: a scratch SQLite one)")
    revision.set_defaults(handler=run_revision)
    merge = sub.add_parser("merge", help="join two heads (after a git merge) in one merge revision")
    merge.add_argument("-m", "--message", default="merge heads")
    merge.set_defaults(handler=run_merge)


def _database_url() -> str:
    from bot.settings import load_settings

    return load_settings().database_url


def run_upgrade(args: argparse.Namespace) -> int:
    from bot.db import OutdatedSchema
    from bot.migrations import ensure_database, init_db

    url = _database_url()
    if args.create_database and ensure_database(url):
        print("created the database")
    try:
        init_db(url)
    except OutdatedSchema as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return run_current(args)


def run_current(_args: argparse.Namespace) -> int:
    from bot.db import get_engine
    from bot.migrations import current_revisions, head_revisions

    with get_engine(_database_url()).connect() as connection:
        current = current_revisions(connection)
    heads = head_revisions()
    print(f"database: {', '.join(current) or '(none)'}; code: {', '.join(heads)}")
    return 0 if set(current) == set(heads) else 1


def run_check(_args: argparse.Namespace) -> int:
    from bot.migrations import head_revisions, pending_model_changes

    if len(head_revisions()) > 1:
        print(f"several heads {head_revisions()}: run `python -m bot db merge`", file=sys.stderr)
        return 1
    changes = pending_model_changes()
    for change in changes:
        print(change)
    if changes:
        print('models changed without a revision: run `python -m bot db revision -m "..."`', file=sys.stderr)
        return 1
    print("models and migrations agree")
    return 0


def run_revision(args: argparse.Namespace) -> int:
    from bot.migrations import make_revision

    for path in make_revision(args.message, args.database_url):
        print(f"wrote {path}: review it before committing")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from bot.migrations import merge_heads

    path = merge_heads(args.message)
    print(f"wrote {path}" if path else "one head: nothing to merge")
    return 0
