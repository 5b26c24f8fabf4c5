"""Dev data loaders: our own paraphrase sets and the public files in ../shared/eval."""

from __future__ import annotations

import csv
import json
import os
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = Path(os.environ.get("SHARED_EVAL", ROOT.parent / "shared" / "eval"))
BITEXT_ROUTES = {
    "track_order": "order_status",
    "get_refund": "return_request",
    "recover_password": "password_reset",
    "contact_human_agent": "handoff",
    "delivery_options": "faq:shipping_options",
    "delivery_period": "faq:delivery_time",
    "check_payment_methods": "faq:payment_methods",
    "payment_issue": "faq:payment_failed",
    "check_refund_policy": "faq:refund_policy",
    # ../shared/eval/README.md predates the cancel_order route and maps these to the FAQ entry;
    # the routing contract (../shared/ROUTES.md) sends "please cancel my order" to the flow,
    # and Bitext's cancel_order rows are requests to cancel the customer's own order.
    "cancel_order": "cancel_order",
    "change_shipping_address": "faq:change_address",
    "get_invoice": "faq:invoice",
    "check_invoice": "faq:invoice",
    "create_account": "faq:create_account",
    "delete_account": "faq:delete_account",
    "newsletter_subscription": "faq:newsletter",
    "contact_customer_service": "faq:contact_hours",
}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def kb_dev() -> list[dict]:
    return read_jsonl(ROOT / "bench" / "data" / "kb_dev.jsonl")


def route_dev() -> list[dict]:
    return read_jsonl(ROOT / "bench" / "data" / "route_dev.jsonl")


def natural_dev() -> list[dict]:
    """Held-out natural, near-domain and off-topic requests in 4 languages (never trained on)."""
    return read_jsonl(ROOT / "bench" / "data" / "route_natural_dev.jsonl")


def openers_dev() -> list[dict]:
    """Own call-centre-style openers in 4 languages: a greeting, the request, sometimes thanks (never trained on)."""
    return read_jsonl(ROOT / "bench" / "data" / "route_openers_dev.jsonl")


def bitext(per_intent: int = 40, seed: int = 7) -> list[dict]:
    """Bitext rows whose intent maps to a route, sampled evenly per intent."""
    path = EVAL_DIR / "bitext_customer_service_8k.csv"
    if not path.exists():
        return []
    by_intent: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["intent"] in BITEXT_ROUTES:
                by_intent.setdefault(row["intent"], []).append(row["utterance"])
    rng = random.Random(seed)
    rows = []
    for intent, texts in sorted(by_intent.items()):
        for text in rng.sample(texts, min(per_intent, len(texts))):
            rows.append({"text": text, "lang": "en", "route": BITEXT_ROUTES[intent]})
    return rows


def clinc_oos() -> list[dict]:
    path = EVAL_DIR / "clinc150_train_val.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        {"text": text, "lang": "en", "route": "out_of_scope"}
        for split in ("oos_train", "oos_val")
        for text, _ in data[split]
    ]


# Another shop named: our contract sends these to out_of_scope (bot.nlu.domain_gate), not the flow.
OTHER_SHOP = re.compile(r"\b(amazon|walmart|target|nespresso|ebay)\b")


def clinc_order_status() -> list[dict]:
    """CLINC150's order_status requests (in scope, English); those naming another shop are out of scope."""
    path = EVAL_DIR / "clinc150_train_val.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        {"text": text, "lang": "en", "route": "out_of_scope" if OTHER_SHOP.search(text) else "order_status"}
        for split in ("train", "val")
        for text, intent in data[split]
        if intent == "order_status"
    ]


def tatoeba(lang: str) -> tuple[list[str], list[str]]:
    code = {"ru": "rus", "sk": "slk", "hu": "hun"}[lang]
    source = EVAL_DIR / f"tatoeba_{code}_dev.txt"
    english = EVAL_DIR / f"tatoeba_{code}_dev.eng.txt"
    if not source.exists():
        return [], []
    return source.read_text(encoding="utf-8").splitlines(), english.read_text(encoding="utf-8").splitlines()


def half(rows: list[dict], part: int) -> list[dict]:
    """One of two fixed halves (by a hash of the text): calibrate on one, report on the other."""
    import zlib

    return [r for r in rows if zlib.crc32(r["text"].encode("utf-8")) % 2 == part]
