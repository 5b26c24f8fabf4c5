"""``python -m bot route``: the routing contract of ../shared/ROUTES.md.

Loads the trained Rasa model, the thresholds and the FAQ index once, without
starting a server, and routes JSON lines from stdin (or evaluates a file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TextIO


def register(commands: argparse._SubParsersAction) -> None:
    route = commands.add_parser("route", help="route JSON lines from stdin (see ROUTES.md)")
    route.add_argument("--eval", dest="eval_file", type=Path, help="JSONL with a 'route' per line")
    route.add_argument("--model", type=Path, help="model file or folder (default: models/)")
    route.add_argument("--json", action="store_true", help="with --eval: print a JSON report")
    route.set_defaults(handler=run)


class BadInput(ValueError):
    pass


def read_requests(stream: TextIO, need_route: bool = False) -> list[dict[str, Any]]:
    """Parse every line first, so bad input is reported before anything is routed."""
    requests: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"line {number}: expected a JSON object")
        elif not isinstance(item.get("text"), str) or not item["text"].strip():
            problems.append(f"line {number}: 'text' must be a non-empty string")
        elif "lang" in item and not isinstance(item["lang"], str | None):
            problems.append(f"line {number}: 'lang' must be a string")
        elif need_route and not isinstance(item.get("route"), str):
            problems.append(f"line {number}: 'route' must be a string")
        else:
            requests.append(item)
    if problems:
        raise BadInput("\n".join(problems))
    return requests


class RouteEngine:
    """The trained model + Router, loaded once."""

    def __init__(self, model: Path | None = None) -> None:
        import logging

        from rasa.core.agent import Agent
        from rasa.model import get_local_model
        from rasa.utils.log_utils import configure_structlog

        from bot import composition

        configure_structlog(logging.WARNING)  # stdout carries only JSON lines
        settings = composition.services().settings
        model_path = get_local_model(str(model or settings.model_dir))
        self.agent = Agent.load(model_path)
        self.router = composition.router()
        self.loop = asyncio.new_event_loop()

    def route(self, text: str, lang_hint: str | None = None, details: bool = False) -> dict[str, Any]:
        parse = self.loop.run_until_complete(self.agent.parse_message(text))
        return self.router.decide(text, parse, lang_hint=lang_hint).as_dict(text, details)


def evaluate(engine: RouteEngine, items: list[dict[str, Any]]) -> dict[str, Any]:
    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_route: dict[str, Counter] = defaultdict(Counter)
    confusion: Counter = Counter()
    for item in items:
        result = engine.route(item["text"], item.get("lang"))
        lang = item.get("lang") or result["lang"]
        ok = result["route"] == item["route"]
        offered = result["route"] == "clarify" and item["route"] in result.get("candidates", [])
        for bucket in (by_lang[lang], by_route[item["route"]], by_lang["all"]):
            bucket["n"] += 1
            bucket["ok"] += ok
            bucket["offered"] += offered
            bucket["clarify"] += result["route"] == "clarify"
        if not ok:
            confusion[(item["route"], result["route"])] += 1
    return {
        "accuracy": _ratio(by_lang["all"]),
        "n": by_lang["all"]["n"],
        # a "Did you mean ...?" that offered the right route counts as right here
        "accuracy_with_clarify": _ratio(by_lang["all"], "ok", "offered"),
        "clarify_rate": _ratio(by_lang["all"], "clarify"),
        "per_language": {k: _ratio(v) for k, v in sorted(by_lang.items()) if k != "all"},
        "per_route": {k: _ratio(v) for k, v in sorted(by_route.items())},
        "confusions": [{"expected": e, "got": g, "count": c} for (e, g), c in confusion.most_common()],
    }


def _ratio(counter: Counter, *keys: str) -> float:
    hits = sum(counter[k] for k in keys or ("ok",))
    return round(hits / counter["n"], 4) if counter["n"] else 0.0


def print_report(report: dict[str, Any]) -> None:
    print(f"accuracy {report['accuracy']:.3f} on {report['n']} messages")
    print(
        f"accuracy counting a clarify that offered the right route {report['accuracy_with_clarify']:.3f}, "
        f"clarify rate {report['clarify_rate']:.3f}"
    )
    print("per language: " + ", ".join(f"{k} {v:.3f}" for k, v in report["per_language"].items()))
    print("per route:")
    for route, value in report["per_route"].items():
        print(f"  {route:32s} {value:.3f}")
    print("confusions (expected -> got):")
    for row in report["confusions"][:40]:
        print(f"  {row['count']:3d}  {row['expected']} -> {row['got']}")


def run(args: argparse.Namespace) -> int:
    try:
        if args.eval_file:
            with args.eval_file.open(encoding="utf-8") as handle:
                items = read_requests(handle, need_route=True)
        else:
            items = read_requests(sys.stdin)
    except BadInput as exc:
        print(f"bad input:\n{exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        engine = RouteEngine(args.model)
    except Exception as exc:
        print(f"cannot load the trained model ({exc}); run `make train` first", file=sys.stderr)
        return 1
    if args.eval_file:
        report = evaluate(engine, items)
        if args.json:
            print(json.dumps(report, ensure_ascii=False))
        else:
            print_report(report)
        return 0
    for item in items:
        print(json.dumps(engine.route(item["text"], item.get("lang")), ensure_ascii=False), flush=True)
    return 0
