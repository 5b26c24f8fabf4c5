"""`make bench-faults`: kill -9 each process kind under load on the production topology.

Starts the production topology (nginx, 2 gateways, 2 Rasa servers on PostgreSQL + Redis, 2 action
servers, all under supervisord) on free ports, runs a bounded number of customers chatting through
nginx (Socket.IO over WebSocket, one loopback source address each), and in turn kills a gateway, a
Rasa server and an action server with SIGKILL. For each it prints how long until supervisord's new
process serves again and what the customers saw meanwhile (errors by status, slowest answer). A
customer resends a message that failed with the same client_id, as the widget does. At the end
every session's history is read back: lost, duplicated and unanswered customer messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.loadclient import Figures, Widget, check_history, percentile
from tests.support.production import ProductionStack, session_from

TEXTS = [
    "hello",
    "How long does delivery take?",
    "Сколько стоит доставка?",
    "Ako dlho trvá doručenie?",
    "Mennyi a garancia?",
    "Which payment methods do you accept?",
    "thanks",
]
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Window:
    """What customers saw while one process was down and coming back."""

    program: str
    started: float
    ended: float = 0.0
    back_after_s: float = 0.0
    chat_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    resent: int = 0


class Run:
    def __init__(self) -> None:
        self.figures = Figures()
        self.answer_ms: list[float] = []
        self.unanswered_in_time = 0
        self.windows: list[Window] = []

    def window(self) -> Window | None:
        current = self.windows[-1] if self.windows else None
        return current if current is not None and not current.ended else None


async def answer_after(widget: Widget, message_id: int, deadline: float) -> bool:
    """Wait (long-polling GET /api/messages) until a reply follows the customer's message."""
    while time.monotonic() < deadline:
        try:
            async with widget.http.get(
                f"{widget.base_url}/api/messages",
                params={"session_id": widget.session_id, "after": message_id, "wait": 10},
            ) as response:
                page = (await response.json()).get("messages", []) if response.status == 200 else []
        except (TimeoutError, aiohttp.ClientError, ValueError):
            page = []
            await asyncio.sleep(0.5)
        if any(m["sender"] != "customer" for m in page):
            return True
    return False


async def say_until_stored(widget: Widget, text: str, run: Run, deadline: float) -> None:
    """POST /api/chat, resending with the same client_id after a connection error or 5xx; then
    wait for the answer, as a customer does (a 202 means it comes later, pushed)."""
    client_id = secrets.token_hex(8)
    delay = 0.25
    first_sent = time.perf_counter()
    while time.monotonic() < deadline:
        window = run.window()
        start = time.perf_counter()
        body: dict = {}
        try:
            async with widget.http.post(
                f"{widget.base_url}/api/chat",
                json={"session_id": widget.session_id, "text": text, "client_id": client_id},
            ) as response:
                status = response.status
                body = await response.json(content_type=None) if status in (200, 202) else {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            status = None
            run.figures.errors[type(exc).__name__] += 1
            if window:
                window.errors[type(exc).__name__] += 1
        elapsed_ms = (time.perf_counter() - start) * 1000
        if status is not None:
            run.figures.statuses[status] += 1
            if window:
                window.statuses[status] += 1
        if status in (200, 202):
            run.figures.chat_ms.append(elapsed_ms)
            if window:
                window.chat_ms.append(elapsed_ms)
            widget.sent.append(text)
            messages = body.get("messages") or []
            answered = any(m.get("sender") != "customer" for m in messages)
            if not answered and messages:
                answered = await answer_after(widget, messages[0]["id"], deadline=time.monotonic() + 90)
            if answered:
                answer_ms = (time.perf_counter() - first_sent) * 1000
                run.answer_ms.append(answer_ms)
                if window:
                    window.answer_ms.append(answer_ms)
            else:
                run.unanswered_in_time += 1
            return
        if status is not None and status not in RETRY_STATUSES:
            return  # a 4xx is the client's fault: nothing to resend
        if window:
            window.resent += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2, 4.0)


async def customer(
    widget: Widget,
    run: Run,
    stop: asyncio.Event,
    deadline: float,
    rng: random.Random,
    think: tuple[float, float],
) -> None:
    step = rng.randrange(len(TEXTS))
    while not stop.is_set() and time.monotonic() < deadline:
        await say_until_stored(widget, TEXTS[step % len(TEXTS)], run, deadline=deadline)
        step += 1
        with contextlib.suppress(TimeoutError):  # think, unless the run ends meanwhile
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(*think))


async def wait_answered(widgets: list[Widget], timeout: float) -> list[list[dict]]:
    """Histories once every customer message has its answer (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        histories = [await widget.history() for widget in widgets]
        unanswered = sum(
            check_history(w, h, expect_answers=True)[2] for w, h in zip(widgets, histories, strict=True)
        )
        if not unanswered or time.monotonic() > deadline:
            return histories
        await asyncio.sleep(1)


async def faults(stack: ProductionStack, args: argparse.Namespace) -> int:
    rng = random.Random(11)
    widgets = [Widget(stack.url, i) for i in range(args.customers)]
    for widget in widgets:
        await widget.open()
        await widget.connect()
    nodes = Counter([stack.served_by(session_from(w.address)) for w in widgets])
    print(
        f"{len(widgets)} customers connected through nginx; gateways by source address: {dict(nodes)}",
        flush=True,
    )
    run = Run()
    victims = [f"{kind}-1" for kind in args.kinds]
    # Bounded: warm-up, then each fault with its recovery and a settle period; a hard deadline besides.
    stop = asyncio.Event()
    deadline = time.monotonic() + args.warmup + len(victims) * (args.per_fault + args.settle) + 60
    think = (args.think_min, args.think_max)
    load = [asyncio.create_task(customer(w, run, stop, deadline, rng, think)) for w in widgets]
    await asyncio.sleep(args.warmup)
    for name in victims:
        window = Window(program=name, started=time.monotonic())
        run.windows.append(window)
        old_pid = stack.kill(name)
        print(f"kill -9 {name} (pid {old_pid})", flush=True)
        window.back_after_s = await asyncio.to_thread(stack.wait_restarted, name, old_pid, args.per_fault)
        print(
            f"  {name} serves again after {window.back_after_s:.1f} s (new pid {stack.pid(name)})", flush=True
        )
        await asyncio.sleep(args.settle)
        window.ended = time.monotonic()
    stop.set()
    await asyncio.gather(*load)
    histories = await wait_answered(widgets, timeout=90)
    totals: Counter = Counter()
    for widget, history in zip(widgets, histories, strict=True):
        lost, duplicated, unanswered = check_history(widget, history, expect_answers=True)
        totals.update(sent=len(widget.sent), lost=lost, duplicated=duplicated, unanswered=unanswered)
    for widget in widgets:
        await widget.close()
    nginx_errors = Counter(
        re.sub(r"^\d+#\d+: (\*\d+ )?", "", line.split("] ", 1)[1]).split(" while ", 1)[0][:60]
        for line in (stack.topology.log_dir / "nginx.log").read_text(errors="replace").splitlines()
        if "] " in line and "[warn]" not in line
    )

    figures = run.figures
    print(
        f"\n== faults under load: {args.customers} customers through nginx, think {args.think_min}-{args.think_max} s =="
    )
    for window in run.windows:
        ms = window.answer_ms
        print(
            f"{window.program:10s} back after {window.back_after_s:5.1f} s | while down and recovering "
            f"({window.ended - window.started:.0f} s): {len(window.chat_ms)} messages stored, answer p50 "
            f"{percentile(ms, 50):.0f} ms, max {max(ms, default=float('nan')):.0f} ms, statuses "
            f"{dict(window.statuses)}, connection errors {dict(window.errors) or 0}, resent {window.resent}"
        )
    ms = run.answer_ms
    print(
        f"answers (send -> reply, pushed or in the response): {len(ms)}: p50 {percentile(ms, 50):.0f} ms, "
        f"p95 {percentile(ms, 95):.0f} ms, p99 {percentile(ms, 99):.0f} ms; "
        f"{run.unanswered_in_time} not answered within 90 s"
    )
    print(
        f"whole run: {figures.chat_summary()}; statuses {dict(figures.statuses)}; errors {dict(figures.errors) or 0}"
    )
    print(
        f"history check: {totals['sent']} customer messages stored, {totals['lost']} lost, "
        f"{totals['duplicated']} duplicated, {totals['unanswered']} without an answer"
    )
    print(f"nginx error log, start-up included: {dict(nginx_errors.most_common(6)) or 0}")
    return 0 if not (totals["lost"] or totals["duplicated"] or totals["unanswered"]) else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--think-min", type=float, default=2.0)
    parser.add_argument("--think-max", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--per-fault", type=float, default=120, help="longest wait for a restart (s)")
    parser.add_argument("--settle", type=float, default=10, help="load after a restart before the next kill")
    parser.add_argument("--kinds", nargs="+", default=["gateway", "rasa", "actions"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        stack = ProductionStack(Path(workdir)).start()
        print(
            f"production topology serving after {time.perf_counter() - started:.0f} s at {stack.url}",
            flush=True,
        )
        try:
            code = asyncio.run(faults(stack, args))
        finally:
            stack.stop()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
