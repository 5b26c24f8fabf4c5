"""``python -m bot supervisor-config``: writes var/run/supervisord.conf for this machine's topology."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser("supervisor-config", help="write the supervisord config and print its path")
    cmd.add_argument("--var", type=Path, default=Path("var"))
    cmd.add_argument("--rasa-port", type=int, default=5005)
    cmd.add_argument("--action-port", type=int, default=5055)
    cmd.add_argument("--gateway-port", type=int, default=8000)
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.deploy.supervisor import embedded_programs, write_supervisor_config

    venv_bin = Path(sys.executable).parent
    programs = embedded_programs(
        venv_bin, rasa_port=args.rasa_port, action_port=args.action_port, gateway_port=args.gateway_port
    )
    print(write_supervisor_config(programs, args.var.resolve()))
    return 0
