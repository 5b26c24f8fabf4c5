"""Command line entry point; each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import (
        agents,
        backup,
        db,
        deploy,
        email,
        init,
        kb,
        privacy,
        route,
        seed,
        serve,
        supervise,
        telegram,
        worker,
    )

    parser = argparse.ArgumentParser(prog="python -m bot", description="customer-support bot for online shops")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (route, kb, agents, seed, serve, supervise, db, deploy, privacy, telegram, email, worker, backup, init):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.profile import ProfileError
    from bot.settings import load_settings

    try:
        level = load_settings().log_level
    except ProfileError as error:  # every problem as file:line, not a traceback
        print(f"the shop profile cannot be used:\n{error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)
