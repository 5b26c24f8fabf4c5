"""`make bench-nlu`: our pipeline next to Rasa's default one, on the same data.

Trains both NLU models from scratch (empty cache), then reports per language:
route accuracy and intent-group macro-F1 on bench/data/route_dev.jsonl, the
Bitext rows mapped as ../shared/eval/README.md says, out-of-scope recall and
false handoffs on CLINC oos, training time and model load time.
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

from bench.datasets import ROOT, bitext, clinc_oos, route_dev
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


def evaluate(engine: RouteEngine, rows: list[dict]) -> dict[str, dict]:
    by_lang: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        got = engine.route(row["text"], row.get("lang"))["route"]
        for lang in (row.get("lang", "en"), "all"):
            by_lang[lang]["gold"].append(row["route"])
            by_lang[lang]["got"].append(got)
    report = {}
    for lang, data in sorted(by_lang.items()):
        gold, got = data["gold"], data["got"]
        report[lang] = {
            "n": len(gold),
            "route_accuracy": sum(a == b for a, b in zip(gold, got, strict=True)) / len(gold),
            "intent_macro_f1": f1_score(
                [group(g) for g in gold], [group(g) for g in got], average="macro", zero_division=0
            ),
        }
    return report


def oos(engine: RouteEngine, rows: list[dict]) -> dict[str, float]:
    routes = [engine.route(r["text"])["route"] for r in rows]
    n = max(len(routes), 1)
    return {
        "n": len(routes),
        "oos_recall": routes.count("out_of_scope") / n,
        "false_handoffs": routes.count("handoff") / n,
        "false_faq_answers": sum(r.startswith("faq:") for r in routes) / n,
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
                "bitext": evaluate(engine, bitext()),
                "clinc_oos": oos(engine, clinc_oos()),
            }
    print_report(results)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "nlu.json").write_text(json.dumps(results, indent=2))


def print_report(results: dict) -> None:
    for name, r in results.items():
        print(f"\n== {name}: NLU training {r['train_s']} s, model load {r['load_s']} s")
        for title in ("dev", "bitext"):
            print(f"  {title}: lang  n    route-acc  intent-macro-F1")
            for lang, m in r[title].items():
                print(
                    f"    {lang:4s} {m['n']:4d}   {m['route_accuracy']:.3f}      {m['intent_macro_f1']:.3f}"
                )
        o = r["clinc_oos"]
        print(
            f"  CLINC oos ({o['n']}): out-of-scope recall {o['oos_recall']:.3f}, "
            f"false handoffs {o['false_handoffs']:.3f}, false FAQ answers {o['false_faq_answers']:.3f}"
        )


if __name__ == "__main__":
    main()
