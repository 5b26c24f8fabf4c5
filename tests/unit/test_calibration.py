"""The calibrators (bot.calibration), the FAQ gate fitted on its own FAQ (bot.kb.gate),
the router's one-number decision (bot.routing.choose) and the NLU risk gate."""

from __future__ import annotations

import numpy as np
import pytest

from bot.calibration import expected_calibration_error, fit_calibrator, ranked_features
from bot.kb.gate import FaqGate, fit_gate, gate_issues
from bot.kb.schema import FaqEntry, LocalizedText
from bot.nlu.risk_gate import needs_fallback
from bot.routing import CLARIFY, OUT_OF_SCOPE, Option, choose, vetoed


def test_a_fitted_calibrator_is_calibrated_on_data_drawn_like_its_training_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1))
    truth = 1 / (1 + np.exp(-(2 * x[:, 0] - 0.5)))
    y = rng.random(4000) < truth
    calibrator = fit_calibrator(x[:2000], y[:2000])
    p = calibrator.probability(x[2000:])
    assert expected_calibration_error(p, y[2000:]) < 0.05
    assert calibrator.probability([[2.0]])[0] > 0.9 > 0.1 > calibrator.probability([[-2.0]])[0]


def test_expected_calibration_error_sees_overconfidence() -> None:
    assert expected_calibration_error([0.95] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.45)


def test_ranked_features_give_one_row_per_candidate_with_relative_evidence() -> None:
    rows = ranked_features([0.9, 0.8, 0.5, 0.4])
    assert rows.shape == (3, 5)
    assert rows[0, 1] == pytest.approx(0.1) and rows[1, 1] == pytest.approx(-0.1)  # gap to best other


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _faq(rng: np.random.Generator, entries: int, phrasings: int, spread: float):
    centres = _unit(rng.normal(size=(entries, 32)))
    rows, ids, groups = [], [], []
    for e in range(entries):
        for k in range(phrasings):
            rows.append(_unit(centres[e] + spread * rng.normal(size=32)))
            ids.append(f"e{e}")
            groups.append(f"e{e}|{k}")
    return centres, np.array(rows), ids, groups


def test_the_gate_is_sure_of_a_paraphrase_and_unsure_of_off_topic_and_unanswerable_text() -> None:
    rng = np.random.default_rng(1)
    centres, matrix, ids, groups = _faq(rng, entries=20, phrasings=3, spread=0.08)
    general = _unit(rng.normal(size=(60, 32)))
    gate = fit_gate(ids, groups, matrix, [], general)

    def p_best(query: np.ndarray) -> float:
        sims = matrix @ query
        scores = sorted(
            (np.sort(sims[[i for i, e in enumerate(ids) if e == f"e{k}"]])[::-1][:3].mean() for k in range(20)),
            reverse=True,
        )
        return gate.probabilities(scores)[0]

    paraphrase = _unit(centres[3] + 0.08 * rng.normal(size=32))
    off_topic = _unit(rng.normal(size=32))
    assert p_best(paraphrase) > 0.8
    assert p_best(off_topic) < 0.2


def test_an_faq_with_one_phrasing_per_entry_still_gets_a_gate_from_its_answers() -> None:
    rng = np.random.default_rng(2)
    centres, matrix, ids, groups = _faq(rng, entries=15, phrasings=1, spread=0.05)
    answers = [(f"e{e}", _unit(centres[e] + 0.08 * rng.normal(size=32))) for e in range(15)]
    gate = fit_gate(ids, groups, matrix, answers, _unit(rng.normal(size=(40, 32))))
    assert gate.calibrator is not None
    assert gate.probabilities([0.9, 0.2, 0.1])[0] > gate.probabilities([0.5, 0.45, 0.4])[0]


def _entry(entry_id: str, questions: list[str]) -> FaqEntry:
    return FaqEntry(id=entry_id, texts={"en": LocalizedText(tuple(questions), "An answer.")}, source="x.yml", line=3)


def test_kb_check_warns_about_few_phrasings_and_entries_too_close_to_tell_apart() -> None:
    entries = [_entry("a", ["one", "two", "three"]), _entry("b", ["four"]), _entry("c", ["5", "6", "7"])]
    gate = FaqGate(None, (("a", "c", 2, 3), ("c", "a", 1, 3)))
    messages = [i.message for i in gate_issues(entries, gate)]
    assert any("'b' has 1 en phrasing" in m for m in messages)
    assert any("'a' and 'c' are too close" in m for m in messages)
    assert not any("'c' and 'a'" in m for m in messages)  # 1 of 3 is not "mostly"
    assert all(i.severity == "warning" for i in gate_issues(entries, gate))


@pytest.mark.parametrize(
    ("options", "max_risk", "route", "offered"),
    [
        ([Option("faq:a", 0.9), Option("faq:b", 0.05)], 0.2, "faq:a", ()),
        ([Option("faq:a", 0.5), Option("order_status", 0.4)], 0.2, CLARIFY, ("faq:a", "order_status")),
        ([Option("faq:a", 0.5), Option("order_status", 0.4)], 0.6, "faq:a", ()),
        ([Option("faq:a", 0.4), Option("faq:b", 0.2)], 0.2, OUT_OF_SCOPE, ()),  # honest: not understood
        ([Option("faq:a", 0.75), Option("faq:b", 0.03)], 0.2, OUT_OF_SCOPE, ()),  # no filler option
        ([Option("faq:a", 0.75), Option("faq:b", 0.1)], 0.2, CLARIFY, ("faq:a", "faq:b")),  # middle band
        ([], 0.2, OUT_OF_SCOPE, ()),
    ],
)
def test_one_number_decides_answer_ask_or_admit(options, max_risk, route, offered) -> None:
    got, candidates, _ = choose(options, max_risk)
    assert (got, candidates) == (route, offered)


def test_a_message_surely_off_topic_is_not_answered_from_a_resembling_faq_entry() -> None:
    options = [Option("faq:delivery_time", 0.88), Option("order_status", 0.06)]
    # "will it rain tomorrow": the FAQ gate likes delivery_time, the intent model is sure it is off topic
    assert choose(vetoed(options, 0.95, 0.5), 0.5)[:2] == (CLARIFY, ("faq:delivery_time", "order_status"))
    assert choose(vetoed(options[:1], 0.95, 0.5), 0.5)[0] == OUT_OF_SCOPE
    assert choose(vetoed(options, 0.6, 0.5), 0.5)[0] == "faq:delivery_time"  # a doubt is not a veto
    assert vetoed([Option("order_status", 0.97)], 0.95, 0.5) == [Option("order_status", 0.97)]  # flows: the NLU gate's


def test_the_nlu_risk_gate_holds_back_risky_flows_but_not_a_clear_yes() -> None:
    acts = {"affirm", "deny"}
    assert needs_fallback("order_status", 0.7, 0.2, acts, 0.3)
    assert not needs_fallback("order_status", 0.85, 0.2, acts, 0.3)
    assert not needs_fallback("affirm", 0.6, 0.2, acts, 0.3)
    assert not needs_fallback("faq", 0.1, 0.2, acts, 0.3)  # the router decides FAQ questions
