"""`python -m bot route`: the stable routing interface of ROUTES.md."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.stack import MODEL, ROOT

KEYS = {"text", "lang", "route", "intent", "intent_confidence", "faq_id", "faq_score"}


def route(lines: list[str], *args: str) -> subprocess.CompletedProcess:
    assert MODEL.exists(), "run `make train` first"
    return subprocess.run(
        [sys.executable, "-m", "bot", "route", *args],
        input="\n".join(lines) + "\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_routes_one_json_line_per_input_in_order() -> None:
    inputs = [
        {"text": "What is your return policy?"},
        {"text": "I want to return my kettle"},
        {"text": "Сколько стоит доставка курьером?", "lang": "ru"},
        {"text": "Zabudol som heslo"},
        {"text": "Beszélhetnék egy emberrel?"},
        {"text": "what's the capital of Australia"},
        {"text": "hello"},
    ]
    done = route([json.dumps(i, ensure_ascii=False) for i in inputs])
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in rows] == [i["text"] for i in inputs]
    assert all(set(r) == KEYS for r in rows)
    routes = [r["route"] for r in rows]
    assert routes == [
        "faq:return_policy",
        "return_request",
        "faq:shipping_options",
        "password_reset",
        "handoff",
        "out_of_scope",
        "greet",
    ]
    assert [r["lang"] for r in rows[2:5]] == ["ru", "sk", "hu"]
    assert rows[0]["faq_id"] == "return_policy" and 0 < rows[0]["faq_score"] <= 1


def test_bad_input_exits_2_naming_the_line() -> None:
    done = route(['{"text": "hello"}', "not json", '{"text": ""}', '["a"]'])
    assert done.returncode == 2
    assert done.stdout == ""
    assert "line 2: not valid JSON" in done.stderr
    assert "line 3: 'text' must be a non-empty string" in done.stderr
    assert "line 4: expected a JSON object" in done.stderr


def test_eval_prints_accuracy_by_language_and_route(tmp_path) -> None:
    data = tmp_path / "eval.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {"text": "hi", "lang": "en", "route": "greet"},
                {"text": "ahoj, kde je moja objednávka?", "lang": "sk", "route": "order_status"},
                {"text": "tell me a joke", "lang": "en", "route": "faq:gift_cards"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "route", "--eval", str(data), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 3 and abs(report["accuracy"] - 2 / 3) < 1e-3
    assert report["per_language"] == {"en": 0.5, "sk": 1.0}
    assert report["confusions"][0]["expected"] == "faq:gift_cards"
