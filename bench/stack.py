"""`make bench-stack`: cold start of the three processes and warm chat round trips.

Starts the real stack on free ports (as the end-to-end tests do), times until
/health is green, then times N chat round trips through the gateway.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

from tests.support.stack import Stack

MESSAGES = [
    "hello",
    "What payment methods do you accept?",
    "Сколько стоит доставка?",
    "Ako dlho trvá doručenie?",
    "Mennyi a garancia?",
    "what's the weather like",
    "thanks",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        start = time.perf_counter()
        stack.start()
        cold = time.perf_counter() - start
        try:
            session = stack.new_session()
            stack.say(session, "hello")  # warm-up: first parse loads lazy parts
            timings = []
            for i in range(args.rounds):
                text = MESSAGES[i % len(MESSAGES)]
                t0 = time.perf_counter()
                response = requests.post(
                    f"{stack.url}/api/chat", json={"session_id": session, "text": text}, timeout=60
                )
                timings.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                if i % 25 == 24:
                    session = stack.new_session()  # stay under the per-session rate limit
        finally:
            stack.stop()
    print(f"cold start to healthy (seed + Rasa + action server + gateway): {cold:.1f} s")
    print(
        f"warm chat round trip through the gateway, {len(timings)} messages: "
        f"p50 {statistics.median(timings):.0f} ms, p95 {np.percentile(timings, 95):.0f} ms, "
        f"max {max(timings):.0f} ms"
    )


if __name__ == "__main__":
    main()
