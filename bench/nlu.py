"""`make bench-nlu`: our pipeline next to Rasa's default one, on the same data.

Trains both NLU models from scratch (empty cache), then reports per language, side
by side, on our own held-out dev sets (bench/data/route_dev.jsonl and the natural /
near-domain / off-topic set bench/data/route_natural_dev.jsonl, never trained on):
route accuracy, accuracy counting a `clarify` that offered the right route, clarify
rate, out-of-scope recall, false FAQ answers and false flows (both as a share of
the out-of-scope messages), and intent-group macro-F1. Then the same on the Bitext
rows mapped as ../shared/eval/README.md says and on CLINC oos, training time and
model load time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import f1_score

from bench.datasets import ROOT, bitext, clinc_oos, natural_dev, route_dev
from bot.cli.route import RouteEngine

PIPELINES = {"ours": ROOT / "config.yml", "rasa-default": ROOT / "bench" / "configs" / "rasa-default.yml"}


def group(route: str) -> str:
    """Intent groups for macro-F1: every FAQ entry counts as one 'faq' class."""
    return "faq" if route.startswith("faq:") else route


def train(name: str, config: Path, out: Path) -> tuple[Path, float]:
    env = dict(os.environ, RASA_CACHE_DIRECTORY=str(out / f"cache-{name}"))
    start = time.perf_counter()
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "rasa"),
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            "data",
            "--out",
            str(out),
            "--fixed-model-name",
            name,
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out / f"{name}.tar.gz", time.perf_counter() - start


FLOW_ROUTES = {"order_status", "return_request", "password_reset", "handoff"}


def evaluate(engine: RouteEngine, rows: list[dict]) -> dict[str, dict]:
    by_lang: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        result = engine.route(row["text"], row.get("lang"))
        for lang in (row.get("lang", "en"), "all"):
            by_lang[lang]["gold"].append(row["route"])
            by_lang[lang]["got"].append(result["route"])
            by_lang[lang]["offered"].append(result.get("candidates") or [])
    return {
        lang: metrics(data["gold"], data["got"], data["offered"]) for lang, data in sorted(by_lang.items())
    }


def metrics(gold: list[str], got: list[str], offered: list[list[str]]) -> dict[str, float]:
    n = len(gold)
    oos = [g for g, _ in zip(gold, got, strict=True) if g == "out_of_scope"]
    oos_got = [r for g, r in zip(gold, got, strict=True) if g == "out_of_scope"]
    n_oos = max(len(oos), 1)
    return {
        "n": n,
        "n_oos": len(oos),
        "route_accuracy": sum(a == b for a, b in zip(gold, got, strict=True)) / n,
        "accuracy_with_clarify": sum(
            a == b or (b == "clarify" and a in c) for a, b, c in zip(gold, got, offered, strict=True)
        )
        / n,
        "clarify_rate": got.count("clarify") / n,
        "oos_recall": oos_got.count("out_of_scope") / n_oos if oos else float("nan"),
        "false_faq_answers": sum(r.startswith("faq:") for r in oos_got) / n_oos if oos else float("nan"),
        "false_flows": sum(r in FLOW_ROUTES for r in oos_got) / n_oos if oos else float("nan"),
        "intent_macro_f1": f1_score(
            [group(g) for g in gold], [group(g) for g in got], average="macro", zero_division=0
        ),
    }


def oos(engine: RouteEngine, rows: list[dict]) -> dict[str, float]:
    routes = [engine.route(r["text"])["route"] for r in rows]
    n = max(len(routes), 1)
    return {
        "n": len(routes),
        "oos_recall": routes.count("out_of_scope") / n,
        "false_handoffs": routes.count("handoff") / n,
        "false_faq_answers": sum(r.startswith("faq:") for r in routes) / n,
        "clarify": routes.count("clarify") / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=list(PIPELINES), help="measure one pipeline")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in PIPELINES.items():
            if args.only and name != args.only:
                continue
            model, train_s = train(name, config, Path(tmp))
            start = time.perf_counter()
            engine = RouteEngine(model)
            load_s = time.perf_counter() - start
            results[name] = {
                "train_s": round(train_s, 1),
                "load_s": round(load_s, 1),
                "dev": evaluate(engine, route_dev()),
                "natural": evaluate(engine, natural_dev()),
                "bitext": evaluate(engine, bitext()),
                "clinc_oos": oos(engine, clinc_oos()),
            }
    print_report(results)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "nlu.json").write_text(json.dumps(results, indent=2))


COLUMNS = (
    ("route_accuracy", "route-acc"),
    ("accuracy_with_clarify", "acc+clarify"),
    ("clarify_rate", "clarify"),
    ("oos_recall", "oos-recall"),
    ("false_faq_answers", "false-FAQ"),
    ("false_flows", "false-flow"),
    ("intent_macro_f1", "macro-F1"),
)
TITLES = {
    "dev": "own dev set (bench/data/route_dev.jsonl)",
    "natural": "own natural/near-domain dev set (bench/data/route_natural_dev.jsonl)",
    "bitext": "Bitext (en, ../shared/eval)",
}


def print_report(results: dict) -> None:
    names = list(results)
    for name, r in results.items():
        print(f"== {name}: NLU training {r['train_s']} s, model load {r['load_s']} s")
    for title, heading in TITLES.items():
        print(f"\n{heading}   [" + " | ".join(names) + "]")
        print("  lang    n  oos  " + "  ".join(f"{label:>{8 * len(names)}s}" for _, label in COLUMNS))
        langs = list(results[names[0]][title])
        for lang in langs:
            first = results[names[0]][title][lang]
            cells = []
            for key, _ in COLUMNS:
                values = [results[n][title][lang][key] for n in names]
                cells.append(" | ".join(f"{v:5.3f}" for v in values).rjust(8 * len(names)))
            print(f"  {lang:4s} {first['n']:4d} {first['n_oos']:4d}  " + "  ".join(cells))
    print()
    for name, r in results.items():
        o = r["clinc_oos"]
        print(
            f"CLINC oos ({o['n']}) {name}: out-of-scope recall {o['oos_recall']:.3f}, "
            f"false handoffs {o['false_handoffs']:.3f}, false FAQ answers {o['false_faq_answers']:.3f}, "
            f"clarify {o['clarify']:.3f}"
        )


if __name__ == "__main__":
    main()
