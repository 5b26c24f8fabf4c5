"""`make bench-nlu`: our pipeline next to Rasa's default one, on the same data.

Trains both NLU models from scratch (empty cache), then reports per language, side
by side, on our own held-out dev sets (bench/data/route_dev.jsonl and the natural /
near-domain / off-topic set bench/data/route_natural_dev.jsonl, never trained on):
route accuracy, accuracy counting a `clarify` that offered the right route, clarify
rate, out-of-scope recall, false FAQ answers and false flows (both as a share of
the out-of-scope messages), and intent-group macro-F1. Then the same on the Bitext
rows mapped as ../shared/eval/README.md says and on CLINC oos, training time and
model load time.

Then, per data set and language, the calibration (issue 17): the calibrators were
fitted on held-out folds of the training data and on the FAQ itself, and are measured
here on data they never saw. A risk-coverage table (answer only when the best option's
P(right) >= 1 - max_risk: the share answered, and the share of those answered wrongly),
the expected calibration error of that P, and the issue's figures at the configured
``routing.max_risk`` (bitext and CLINC oos are pooled as "public").
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

from bench.datasets import (
    ROOT,
    bitext,
    clinc_oos,
    clinc_order_status,
    half,
    natural_dev,
    openers_dev,
    route_dev,
)
from bot.calibration import expected_calibration_error
from bot.cli.route import RouteEngine
from bot.routing import CLARIFY, OUT_OF_SCOPE

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


FLOW_ROUTES = {"order_status", "return_request", "cancel_order", "password_reset", "handoff"}


def evaluate(engine: RouteEngine, rows: list[dict], keep: list | None = None) -> dict[str, dict]:
    """Metrics per language; ``keep`` collects every routed row for the calibration tables."""
    by_lang: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        result = engine.route(row["text"], row.get("lang"), details=True)
        if keep is not None:
            keep.append(routed(row, result))
        for lang in (row.get("lang", "en"), "all"):
            by_lang[lang]["gold"].append(row["route"])
            by_lang[lang]["got"].append(result["route"])
            by_lang[lang]["offered"].append(result.get("candidates") or [])
    return {
        lang: metrics(data["gold"], data["got"], data["offered"]) for lang, data in sorted(by_lang.items())
    }


def routed(row: dict, result: dict) -> dict:
    best = result.get("best") or {"route": "", "p": 0.0}
    return {
        "text": row["text"],
        "lang": row.get("lang") or "en",
        "gold": row["route"],
        "got": result["route"],
        "offered": result.get("candidates") or [],
        "best": best["route"],
        "p": float(best["p"]),
    }


RISK_LEVELS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def calibration(items: list[dict]) -> dict[str, object]:
    """Risk-coverage, ECE and the issue-17 figures for routed rows (``routed``)."""
    inscope = [i for i in items if i["gold"] != OUT_OF_SCOPE]
    oos = [i for i in items if i["gold"] == OUT_OF_SCOPE]
    right = [i["best"] == i["gold"] for i in items]  # the best option's correctness, OOS: never
    table = []
    for risk in RISK_LEVELS:
        answered = [ok for i, ok in zip(items, right, strict=True) if i["p"] >= 1 - risk]
        coverage = len(answered) / max(len(items), 1)
        table.append((risk, coverage, (1 - sum(answered) / len(answered)) if answered else 0.0))
    n_in, n_oos = max(len(inscope), 1), max(len(oos), 1)

    def asked_right(i: dict) -> bool:
        return i["got"] == i["gold"] or (i["got"] == CLARIFY and i["gold"] in i["offered"])

    return {
        "n": len(items),
        "n_in": len(inscope),
        "n_oos": len(oos),
        "ece": expected_calibration_error([i["p"] for i in items], right),
        "risk_coverage": table,
        "inscope_right": sum(i["got"] == i["gold"] for i in inscope) / n_in if inscope else float("nan"),
        "inscope_wrong_unasked": (
            sum(i["got"] not in (i["gold"], CLARIFY, OUT_OF_SCOPE) for i in inscope) / n_in if inscope else float("nan")
        ),
        "right_or_asked": sum(asked_right(i) for i in inscope) / n_in if inscope else float("nan"),
        "oos_answered": (
            sum(i["got"] not in (CLARIFY, OUT_OF_SCOPE) for i in oos) / n_oos if oos else float("nan")
        ),
        "clarify_share": sum(i["got"] == CLARIFY for i in items) / max(len(items), 1),
    }


def calibration_report(routed_rows: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per data set ("public" = bitext + CLINC oos) and language, plus "all" languages."""
    report: dict[str, dict[str, dict]] = {}
    for name, items in routed_rows.items():
        langs = sorted({i["lang"] for i in items})
        report[name] = {lang: calibration([i for i in items if i["lang"] == lang]) for lang in langs}
        if len(langs) > 1:
            report[name]["all"] = calibration(items)
    return report


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


def oos(engine: RouteEngine, rows: list[dict], keep: list | None = None) -> dict[str, float]:
    results = [engine.route(r["text"], details=True) for r in rows]
    if keep is not None:
        keep.extend(routed(r, result) for r, result in zip(rows, results, strict=True))
    routes = [result["route"] for result in results]
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
            kept: dict[str, list[dict]] = {"dev": [], "natural": [], "openers": [], "public": []}
            results[name] = {
                "train_s": round(train_s, 1),
                "load_s": round(load_s, 1),
                "dev": evaluate(engine, route_dev(), kept["dev"]),
                "natural": evaluate(engine, natural_dev(), kept["natural"]),
                "openers": evaluate(engine, openers_dev(), kept["openers"]),
                "clinc_order_status": evaluate(engine, clinc_order_status(), kept["public"]),
                "bitext": evaluate(engine, bitext(), kept["public"]),
                "clinc_oos": oos(engine, clinc_oos(), kept["public"]),
                "max_risk": engine.router.settings.max_risk,
            }
            # bench/fit_routes.py fitted the router's last calibrator on half 0: report on half 1.
            public = {r["text"] for r in half(bitext(), 1) + half(clinc_oos(), 1) + half(clinc_order_status(), 1)}
            kept["public"] = [k for k in kept["public"] if k["text"] in public]
            results[name]["calibration"] = calibration_report(kept)
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
    "openers": "own call-centre openers (bench/data/route_openers_dev.jsonl): greeting + request",
    "bitext": "Bitext (en, ../shared/eval)",
    "clinc_order_status": "CLINC150 order_status requests (en, ../shared/eval; another shop named: out_of_scope)",
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
    print_calibration(results)


CALIBRATION_TITLES = {
    "dev": "own dev set",
    "natural": "own natural/near-domain dev set",
    "openers": "own call-centre openers",
    "public": "public: Bitext mapped rows + CLINC oos + CLINC order_status (en), the half the router was not calibrated on",
}
FIGURES = (
    ("inscope_right", "in-scope right", ">=0.85"),
    ("inscope_wrong_unasked", "in-scope wrong, not asked", "<=0.05"),
    ("right_or_asked", "right or asked w/ right option", ">=0.92"),
    ("oos_answered", "OOS answered (FAQ or flow)", "<=0.015"),
    ("clarify_share", "clarify share", "<=0.10"),
)


def print_calibration(results: dict) -> None:
    for name, r in results.items():
        print(f"\n=== calibration, {name} (routing.max_risk {r['max_risk']}) ===")
        for key, title in CALIBRATION_TITLES.items():
            per_lang = r["calibration"].get(key) or {}
            if not per_lang:
                continue
            print(f"\n{title}")
            levels = " ".join(f"{risk:>11.2f}" for risk in RISK_LEVELS)
            print(f"  risk-coverage: max_risk {levels}   (coverage/risk of answered)")
            for lang, c in per_lang.items():
                cells = " ".join(f"{cov:5.2f}/{risk:5.3f}" for _, cov, risk in c["risk_coverage"])
                print(f"  {lang:4s} n={c['n']:4d}        {cells}")
            print("  " + " " * 13 + "ECE   " + "  ".join(f"{label:>30s}" for _, label, _ in FIGURES))
            print("  " + " " * 19 + "  ".join(f"{target:>30s}" for _, _, target in FIGURES))
            for lang, c in per_lang.items():
                cells = "  ".join(f"{c[key]:30.3f}" for key, _, _ in FIGURES)
                print(f"  {lang:4s} n={c['n']:4d} {c['ece']:5.3f}  {cells}")


if __name__ == "__main__":
    main()
