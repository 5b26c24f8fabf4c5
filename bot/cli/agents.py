"""``python -m bot agents add NAME``: create (or re-password) an agent console login."""

from __future__ import annotations

import argparse
import getpass
import sys


def register(commands: argparse._SubParsersAction) -> None:
    agents = commands.add_parser("agents", help="manage agent console logins")
    sub = agents.add_subparsers(dest="agents_command", required=True)
    add = sub.add_parser("add", help="create an agent; asks for the password")
    add.add_argument("name", help="login name")
    add.add_argument("--display-name", help="name customers see (default: the login)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--role", choices=("agent", "supervisor"), help="supervisors also see reports and manage agents"
    )
    add.set_defaults(handler=run_add)


def run_add(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.handoff.agents import MIN_PASSWORD_LENGTH, upsert_agent

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            print("passwords differ", file=sys.stderr)
            return 2
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"password too short: at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2
    try:
        created = upsert_agent(
            composition.database_url(), args.name, password, args.display_name, args.role
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"agent {args.name} {'created' if created else 'updated'}")
    return 0
