"""``python -m bot agents``: console logins from the command line.

``add`` creates a login and refuses a name that exists (``password`` changes one);
``list`` shows them; ``disable`` ends a login and its open sessions, ``enable`` allows
it again. Each calls the agent service (bot.handoff.agents), like the supervisors' Team page.
"""

from __future__ import annotations

import argparse
import getpass
import sys

EXISTS = 1  # exit code: the name is taken (add) or unknown (disable, enable, password)
USAGE = 2  # exit code: a bad password or name


def register(commands: argparse._SubParsersAction) -> None:
    agents = commands.add_parser("agents", help="manage agent console logins")
    sub = agents.add_subparsers(dest="agents_command", required=True)
    add = sub.add_parser("add", help="create an agent; asks for the password; refuses an existing name")
    add.add_argument("name", help="login name")
    add.add_argument("--display-name", help="name customers see (default: the login)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--role", choices=("agent", "supervisor"), help="supervisors also see reports and manage agents"
    )
    add.set_defaults(handler=run_add)
    password = sub.add_parser("password", help="set a new password; the agent's sessions end")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password.set_defaults(handler=run_password)
    listing = sub.add_parser("list", help="list the logins with role and state")
    listing.set_defaults(handler=run_list)
    disable = sub.add_parser("disable", help="refuse the login and end its open sessions")
    disable.add_argument("name")
    disable.set_defaults(handler=run_disable, disabled=True)
    enable = sub.add_parser("enable", help="allow a disabled login again (it must log in anew)")
    enable.add_argument("name")
    enable.set_defaults(handler=run_disable, disabled=False)


def _read_password(name: str, from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"Password for {name}: ")
    if password != getpass.getpass("Again: "):
        print("passwords differ", file=sys.stderr)
        return None
    return password


def _agent_id(url: str, name: str) -> int | None:
    from bot.handoff.agents import list_agents

    return next((a["id"] for a in list_agents(url) if a["username"] == name), None)


def run_add(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.handoff.agents import MIN_PASSWORD_LENGTH, create_agent

    url = composition.database_url()
    if _agent_id(url, args.name) is not None:  # before asking for a password nobody will use
        print(
            f"agent {args.name} exists; nothing changed (new password: python -m bot agents password {args.name})",
            file=sys.stderr,
        )
        return EXISTS
    password = _read_password(args.name, args.password_stdin)
    if password is None:
        return USAGE
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"password too short: at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return USAGE
    try:
        create_agent(url, args.name, password, args.display_name, args.role or "agent")
    except ValueError as exc:  # a bad name, or the name was taken a moment ago
        print(str(exc), file=sys.stderr)
        return EXISTS if "taken" in str(exc) else USAGE
    print(f"agent {args.name} created")
    return 0


def run_password(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.handoff.agents import reset_password

    url = composition.database_url()
    agent_id = _agent_id(url, args.name)
    if agent_id is None:
        print(f"no agent {args.name}", file=sys.stderr)
        return EXISTS
    password = _read_password(args.name, args.password_stdin)
    if password is None:
        return USAGE
    try:
        reset_password(url, agent_id, password)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return USAGE
    print(f"agent {args.name}: new password set; their open sessions ended")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.handoff.agents import list_agents

    rows = list_agents(composition.database_url())
    if not rows:
        print("no agents yet (add one: python -m bot agents add NAME)")
        return 0
    print(f"{'LOGIN':<24} {'ROLE':<11} {'STATE':<9} {'LAST SEEN (UTC)':<17} NAME")
    for a in rows:
        seen = a["last_seen_at"].strftime("%Y-%m-%d %H:%M") if a["last_seen_at"] else "-"
        state = "disabled" if a["disabled"] else "active"
        print(f"{a['username']:<24} {a['role']:<11} {state:<9} {seen:<17} {a['display_name']}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.handoff.agents import set_disabled

    url = composition.database_url()
    agent_id = _agent_id(url, args.name)
    if agent_id is None or not set_disabled(url, agent_id, args.disabled):
        print(f"no agent {args.name}", file=sys.stderr)
        return EXISTS
    print(f"agent {args.name} {'disabled; their open sessions ended' if args.disabled else 'enabled'}")
    return 0
