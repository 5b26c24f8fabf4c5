"""Command line entry point; each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import agents, kb, route, seed, serve, supervise

    parser = argparse.ArgumentParser(prog="python -m bot", description="VoltMart support bot")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (route, kb, agents, seed, serve, supervise):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)
