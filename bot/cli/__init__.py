"""Command line entry point; each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import agents, db, deploy, kb, privacy, route, seed, serve, supervise, worker

    parser = argparse.ArgumentParser(prog="python -m bot", description="VoltMart support bot")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (route, kb, agents, seed, serve, supervise, db, deploy, privacy, worker):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.settings import load_settings

    logging.basicConfig(level=load_settings().log_level, stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)
