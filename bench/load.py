"""`make bench-load`: open widgets, chatting customers and an agent against the real stack.

Starts the embedded stack (SQLite, one Rasa, one action server, one gateway,
under supervisord) on free ports -- or, with --url, targets a running
deployment such as `make run-prod`'s proxy -- then:

1. opens N idle widgets (session + Socket.IO connection each, panel open);
2. runs M customers chatting with 3-8 s think time for the given duration; a
   few of them ask for a person, and an agent claims them and sends messages
   whose delivery to the customer's socket is timed;
3. reads every session's history back: lost, duplicated and unanswered messages;
4. optionally (--saturate) runs closed-loop customers without think time at
   rising concurrency and prints messages per second and each process's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.loadclient import Agent, Figures, Widget, check_history, percentile

SCRIPTS = {
    "en": ["hello", "How long does delivery take?", "Which payment methods do you accept?", "thanks"],
    "ru": ["привет", "Сколько стоит доставка?", "Как вернуть товар?", "спасибо"],
    "sk": ["dobrý deň", "Ako dlho trvá doručenie?", "Môžem platiť kartou?", "ďakujem"],
    "hu": ["szia", "Mennyi a szállítási idő?", "Hogyan küldhetem vissza a terméket?", "köszönöm"],
}
ORDER_FLOW = ["where is my order?", "482913", "anna.kovacova@example.sk"]
HANDOFF_TEXT = "I want to talk to a person"
AGENT_PASSWORD = "bench agent password 1"


def program_cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each program and its child processes (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    totals = {}
    for name, pid in pids.items():
        if pid == os.getpid():  # the load client: itself only, not the stack it started
            totals[name] = cpu.get(pid, 0.0)
            continue
        family, frontier = {pid}, [pid]
        while frontier:
            parent = frontier.pop()
            children = [p for p, pp in parents.items() if pp == parent and p not in family]
            family.update(children)
            frontier.extend(children)
        totals[name] = sum(cpu.get(p, 0.0) for p in family)
    return totals


async def idle_widgets(base_url: str, count: int, first_index: int) -> list[Widget]:
    widgets = [Widget(base_url, first_index + i) for i in range(count)]
    semaphore = asyncio.Semaphore(25)

    async def open_one(widget: Widget) -> None:
        async with semaphore:
            await widget.open()
            await widget.connect()

    results = await asyncio.gather(*(open_one(w) for w in widgets), return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise RuntimeError(f"{len(failures)} idle widgets failed to connect: {failures[0]!r}")
    return widgets


def service_pids(*names: str) -> dict[str, int]:
    """The oldest process of each name (a service's parent; its children count with it)."""
    found: dict[str, tuple[float, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            started = float(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            continue
        for name in names:
            if comm.startswith(name[:15]) and (name not in found or started < found[name][0]):
                found[name] = (started, int(entry))
    return {name: pid for name, (_, pid) in found.items()}


async def customer(widget: Widget, figures: Figures, until: float, rng: random.Random, handoff: bool) -> None:
    lang = rng.choice(list(SCRIPTS))
    script = [HANDOFF_TEXT] if handoff else [*SCRIPTS[lang], *ORDER_FLOW]
    step = 0
    await asyncio.sleep(rng.uniform(0, 8))  # customers arrive spread out, not all in the same instant
    while time.monotonic() < until:
        text = script[step % len(script)] if not handoff or step == 0 else f"still there? {step}"
        await widget.say(text, figures)
        step += 1
        await asyncio.sleep(rng.uniform(3, 8))


async def agent_loop(agent: Agent, handoff_widgets: dict[str, Widget], figures: Figures, until: float) -> None:
    claimed: dict[int, dict] = {}
    sent_at: dict[str, float] = {}

    def on_message(data: dict) -> None:
        key = data.get("text", "")
        if key in sent_at:
            figures.delivery_ms.append((time.perf_counter() - sent_at.pop(key)) * 1000)

    for widget in handoff_widgets.values():
        widget.on_agent_message = on_message
    seq = 0
    while time.monotonic() < until:
        if len(claimed) < len(handoff_widgets):
            for row in (await agent.queue()).get("waiting", []):
                await agent.claim(row["id"])  # every waiting handoff is one of ours
                claimed[row["id"]] = row
        for handoff_id in list(claimed):
            seq += 1
            text = f"agent ping {seq} {secrets.token_hex(3)}"
            sent_at[text] = time.perf_counter()
            status = await agent.send(handoff_id, text)
            figures.statuses[f"agent {status}"] += 1
        await asyncio.sleep(1.5)


async def steady_run(base_url: str, args: argparse.Namespace) -> tuple[Figures, list[Widget], list[Widget]]:
    rng = random.Random(7)
    t0 = time.perf_counter()
    idle = await idle_widgets(base_url, args.idle, first_index=0)
    print(f"{len(idle)} idle widgets connected in {time.perf_counter() - t0:.1f} s", flush=True)
    chatters = [Widget(base_url, args.idle + i) for i in range(args.customers)]
    for widget in chatters:
        await widget.open()
        await widget.connect()
    handoff_count = min(args.handoffs, len(chatters))
    handoff_widgets = {w.session_id: w for w in chatters[:handoff_count]}
    agent = Agent(base_url, "bench", AGENT_PASSWORD)
    await agent.login()
    figures = Figures()
    until = time.monotonic() + args.duration
    tasks = [
        customer(w, figures, until, rng, handoff=w.session_id in handoff_widgets) for w in chatters
    ]
    if handoff_widgets:
        tasks.append(agent_loop(agent, handoff_widgets, figures, until))
    await asyncio.gather(*tasks)
    await asyncio.sleep(2)  # let in-flight pushes land
    await agent.close()
    return figures, idle, chatters


async def verify(chatters: list[Widget], handoffs: int) -> Counter:
    totals: Counter = Counter()
    for i, widget in enumerate(chatters):
        history = await widget.history()
        lost, duplicated, unanswered = check_history(widget, history, expect_answers=i >= handoffs)
        totals.update(lost=lost, duplicated=duplicated, unanswered=unanswered, sent=len(widget.sent))
        totals["pushed twice"] += sum(1 for n in widget.pushed.values() if n > 1)
    return totals


SATURATION_TEXTS = [t for script in SCRIPTS.values() for t in script]


async def saturate(base_url: str, levels: list[int], seconds: float, first_index: int) -> list[str]:
    lines = []
    for level in levels:
        widgets = [Widget(base_url, first_index + i) for i in range(level)]
        for widget in widgets:
            await widget.open()
        figures = Figures()
        until = time.monotonic() + seconds

        async def loop(widget: Widget, figures: Figures = figures, until: float = until) -> None:
            n = 0
            while time.monotonic() < until:
                await widget.say(SATURATION_TEXTS[n % len(SATURATION_TEXTS)], figures)
                n += 1
                if n % 25 == 0:  # stay under the per-session limit: a new visitor session
                    await widget.open()

        started = time.perf_counter()
        await asyncio.gather(*(loop(w) for w in widgets))
        elapsed = time.perf_counter() - started
        ok = figures.statuses.get(200, 0)
        lines.append(
            f"  {level:3d} concurrent: {ok / elapsed:6.1f} answered messages/s, "
            f"p50 {percentile(figures.chat_ms, 50):.0f} ms, p95 {percentile(figures.chat_ms, 95):.0f} ms, "
            f"statuses {dict(figures.statuses)}"
        )
        for widget in widgets:
            await widget.close()
        first_index += level
    return lines


async def run(base_url: str, args: argparse.Namespace, pids: dict[str, int]) -> None:
    cpu_before = program_cpu_seconds(pids) if pids else {}
    wall = time.perf_counter()
    figures, idle, chatters = await steady_run(base_url, args)
    totals = await verify(chatters, min(args.handoffs, len(chatters)))
    elapsed = time.perf_counter() - wall
    cpu_after = program_cpu_seconds(pids) if pids else {}
    print(f"\n== steady load: {args.idle} idle widgets + {args.customers} customers for {args.duration:.0f} s ==")
    print(f"chat round trip: {figures.chat_summary()}")
    print(f"slowest messages: {figures.slowest()}")
    print(f"agent -> customer delivery: {figures.delivery_summary()}")
    print(f"statuses: {dict(figures.statuses)}; client errors: {dict(figures.errors) or 'none'}")
    print(
        f"history check: {totals['sent']} customer messages sent, {totals['lost']} lost, "
        f"{totals['duplicated']} duplicated, {totals['unanswered']} unanswered by the bot; "
        f"{totals['pushed twice']} pushed twice (the client drops those by id)"
    )
    for name in pids:
        print(f"  cpu {name}: {100 * (cpu_after[name] - cpu_before[name]) / elapsed:.0f} % of one core")
    for widget in [*idle, *chatters]:
        await widget.close()
    if args.saturate:
        print("\n== saturation (closed loop, no think time) ==")
        before = program_cpu_seconds(pids) if pids else {}
        start = time.perf_counter()
        for line in await saturate(base_url, args.levels, args.saturate_seconds, args.idle + args.customers):
            print(line, flush=True)
        spent = time.perf_counter() - start
        after = program_cpu_seconds(pids) if pids else {}
        for name in pids:
            print(f"  cpu {name}: {100 * (after[name] - before[name]) / spent:.0f} % of one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running gateway or proxy (default: start the embedded stack)")
    parser.add_argument(
        "--prod", action="store_true", help="start the production topology (nginx, 2 gateways, 2 Rasa, ...)"
    )
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--handoffs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--saturate", action="store_true")
    parser.add_argument("--levels", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--saturate-seconds", type=float, default=20)
    args = parser.parse_args()
    if args.url:
        asyncio.run(run(args.url, args, {}))
        return
    from bot.handoff.agents import upsert_agent

    with tempfile.TemporaryDirectory() as workdir:
        if args.prod:
            from tests.support.production import ProductionStack

            stack = ProductionStack(Path(workdir)).start()
            names = [program.name for program in stack.topology.programs]
        else:
            from tests.support.stack import Stack

            stack = Stack(Path(workdir)).start()
            names = ["gateway", "rasa", "actions"]
        try:
            database_url = stack.env.get("DATABASE_URL") or f"sqlite:///{Path(workdir) / 'var' / 'app.db'}"
            upsert_agent(database_url, "bench", AGENT_PASSWORD, "Bench Agent")
            pids = {name: stack.pid(name) for name in names}
            if args.prod:  # the machine's own services, shared by both Rasa servers and gateways
                pids.update(service_pids("postgres", "redis-server"))
            pids["load client"] = os.getpid()  # on the same 2 cores as what it measures
            asyncio.run(run(stack.url, args, pids))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
