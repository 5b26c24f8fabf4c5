"""Fits the router's last calibrator (bot/route_calibration.json) on half of the public data.

The intent and FAQ-gate probabilities are calibrated on the project's own data (held-out
folds, the FAQ itself); on text nobody here wrote they are too modest for FAQ questions
and too sure for flows. This maps them, per option kind, to P(option right), fitted on
one half (``half(rows, 0)``) of the mapped Bitext rows and of CLINC oos in
../shared/eval (allowed for calibrating; no sentence is copied). `make bench-nlu`
reports on the other half. Run after `make train` when the model or FAQ changed a lot:

    SHARED_EVAL=../shared/eval .venv/bin/python -m bench.fit_routes
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.datasets import bitext, clinc_oos, clinc_order_status, half
from bot.calibration import fit_calibrator
from bot.cli.route import RouteEngine
from bot.routing import FAQ_INTENT, OUT_OF_SCOPE, ROUTE_CALIBRATION, intent_options, ranked_intents


def main() -> None:
    engine = RouteEngine()
    router = engine.router
    rows = half(bitext(), 0) + half(clinc_oos(), 0) + half(clinc_order_status(), 0)
    features: list[list[float]] = []
    labels: list[bool] = []
    for row in rows:
        parse = engine.loop.run_until_complete(engine.agent.parse_message(row["text"]))
        ranking = ranked_intents(parse)
        faq = router.kb.assess(router.kb.search(row["text"], k=5))
        scores = dict(ranking)
        oos = scores.get(OUT_OF_SCOPE, 0.0)
        for option in intent_options(ranking):
            features.append(router.calibrator.features(False, option.probability, 0.0, oos))
            labels.append(option.route == row["route"])
        hits = faq.candidates[: len(faq.probabilities)]
        for hit, p in zip(hits, faq.probabilities, strict=True):
            features.append(router.calibrator.features(True, scores.get(FAQ_INTENT, 0.0), p, oos))
            labels.append(f"faq:{hit.entry_id}" == row["route"])
    calibrator = fit_calibrator(np.asarray(features), labels)
    ROUTE_CALIBRATION.write_text(
        json.dumps(
            {
                "fitted_on": f"half 0 of the mapped Bitext rows, CLINC oos and CLINC order_status ({len(rows)} messages, "
                f"{len(labels)} options), {time.strftime('%Y-%m-%d')}, by bench/fit_routes.py",
                "features": ["option is an FAQ entry", "logit P(intent)", "logit P(entry)", "logit P(out_of_scope)"],
                "calibrator": calibrator.as_dict(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"fitted on {len(rows)} messages ({len(labels)} options): {calibrator}")


if __name__ == "__main__":
    main()
