"""``python -m bot worker``: the periodic jobs (retention purge, mail delivery, ...)."""

from __future__ import annotations

import argparse
import json


def register(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser("worker", help="run the periodic jobs until stopped")
    worker.add_argument("--once", action="store_true", help="run every job once and exit")
    worker.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from bot.composition import get_settings
    from bot.worker import Worker, jobs_from

    logging.getLogger("bot.worker").setLevel(logging.INFO)
    worker = Worker(jobs_from(get_settings()))
    if args.once:
        print(json.dumps(worker.run_once(), default=str))
        return 0
    worker.start()
    return 0
