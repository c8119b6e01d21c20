"""Capacity (issue #14): the largest class of closed-loop learners each layout holds with read and answer p99 <= 200 ms,
0 failed handshakes and 0 errors, with every step's figures.

Run: .venv/bin/python bench/capacity_bench.py            (quick, for `make bench`: two steps a layout, 20 s each)
     .venv/bin/python bench/capacity_bench.py --full     (the capacity figure: 90 s steps, bisected to 25 learners)
     [--layouts run prod-local] [--run-steps 50 100 ...] [--prod-steps 100 200 ...] [--hold 30] [--clients 2]
Writes bench/capacity_RESULTS.md (--full) or bench/capacity_quick_RESULTS.md (quick).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from capacity_layouts import LAYOUTS, Layout, layout_pids, make_run, prod_local
from capacity_learners import (
    ACTION_TIMEOUT,
    OUTLINE_CHANCE,
    RUN_CHANCE,
    THINK_SECONDS,
    ClientPlan,
    Learner,
    ready,
    run_client,
)
from capacity_stats import (
    ANSWER_P99_GOAL_MS,
    READ_ACTIONS,
    READ_P99_GOAL_MS,
    StepSamples,
    StepVerdict,
    in_window,
    judge,
    largest_held,
    next_class,
)
from harness import cpu_seconds, make_sessions, percentile, write_results

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/academy")
PROD_LOCAL_GOAL = 400  # issue #14: learners held by `make prod-local` on this 2-core machine
RAMP_SECONDS = 10.0  # learners arrive spread over this
SETTLE_SECONDS = 10.0  # then the mean think time passes before the measuring window opens
QUICK = {"run": [50, 150], "prod-local": [200, 400], "hold": 20.0, "resolution": 10_000}
FULL = {"run": [50, 100, 200, 300, 400], "prod-local": [100, 200, 300, 400, 500, 600, 800], "hold": 90.0}
FULL_RESOLUTION = 25  # the full search halves the gap between held and missed until it is this small


@dataclass
class Step:
    """One class size held for a while: its verdict, its samples and what the machine was doing meanwhile."""

    verdict: StepVerdict
    samples: StepSamples
    window: tuple[float, float]
    clients: int
    client_cpu: list[float]  # per client process, share of one core over the step
    server_cpu: float  # the layout's processes, in cores
    machine_busy: float  # all cores, 0..1
    load: tuple[float, float]  # 1-minute load average when the step started and when it ended


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def run_step(layout: Layout, pool: ProcessPoolExecutor, sessions: list[str], clients: int, hold: float) -> Step:
    """One class size: every learner arrives over the ramp, the window opens after the settling time, and learners
    start no round after it closes (rounds in flight finish and are counted only by their failures)."""
    learners = len(sessions)
    starts_at = time.monotonic() + 2  # the client processes are running already; this only lines them up
    window = (starts_at + RAMP_SECONDS + SETTLE_SECONDS, starts_at + RAMP_SECONDS + SETTLE_SECONDS + hold)
    plans = [
        ClientPlan(layout.url, sessions[index::clients], index + learners, starts_at, RAMP_SECONDS, window[1])
        for index in range(clients)
    ]
    pids, load_before = layout_pids(layout), os.getloadavg()[0]
    server_before, machine_before = cpu_seconds(pids), machine_ticks()
    reports = list(pool.map(run_client, plans))
    server_after, machine_after = cpu_seconds(pids), machine_ticks()
    samples = StepSamples()
    for report in reports:
        samples.merge(report.samples)
    wall = max(report.wall_seconds for report in reports)
    busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
    return Step(
        judge(learners, samples, *window),
        samples,
        window,
        clients,
        [report.cpu_seconds / report.wall_seconds for report in reports],
        (server_after - server_before) / wall,
        busy,
        (load_before, os.getloadavg()[0]),
    )


async def warm_up(layout: Layout, session: str) -> None:
    """One learner does each action once before the steps, so they measure a warm server."""
    samples = StepSamples()
    learner = Learner(layout.url, session, random.Random(-1), samples)
    for action in ("topic", "outline", "start_quiz", "answer", "run"):
        await learner.step(action)
    await learner.conn.close()
    if samples.failed:
        raise RuntimeError(f"the warm-up learner failed on {layout.name}: {samples.failed}")


def search(layout: Layout, steps: list[int], resolution: int, hold: float, clients: int) -> list[Step]:
    """Steps in order until one misses, then bisection to `resolution`; every step's figures are kept."""
    *sessions, warm_session = make_sessions(layout.env, max(steps) + 1)
    asyncio.run(warm_up(layout, warm_session))
    done: list[Step] = []
    with ProcessPoolExecutor(clients, mp_context=get_context("spawn")) as pool:
        list(pool.map(ready, range(clients)))  # every client process up before the first step's clock starts
        while (learners := next_class([step.verdict for step in done], steps, resolution)) is not None:
            print(f"{layout.name}: {learners} learners ...", flush=True)
            done.append(run_step(layout, pool, sessions[:learners], clients, hold))
            print(f"  {summary(done[-1])}", flush=True)
    return done


def p50_p99(samples: list[float]) -> str:
    return f"{percentile(samples, 50):.0f} / {percentile(samples, 99):.0f} ms" if samples else "none"


def summary(step: Step) -> str:
    """A step's figures in one cell: each action's p50 / p99 over the window and count, failures, CPU, load."""
    s, window = step.samples, step.window
    parts = [f"read {p50_p99(in_window(s, READ_ACTIONS, *window))} ({len(in_window(s, READ_ACTIONS, *window))})"]
    for action, label in (
        ("topic", "topic"),
        ("outline", "outline"),
        ("answer", "answer"),
        ("start_quiz", "quiz start"),
    ):
        samples = in_window(s, action, *window)
        parts.append(f"{label} {p50_p99(samples)} ({len(samples)})")
    runs = in_window(s, "run", *window)
    parts.append(f"code run {p50_p99(runs)} ({len(runs)})")
    v = step.verdict
    errors = "; ".join(f"{count} × {reason}" for reason, count in v.errors.most_common(3))
    parts.append(
        f"failed handshakes {v.failed_handshakes}, errors {v.errors.total()}" + (f" ({errors})" if errors else "")
    )
    client = ", ".join(f"{share:.0%}" for share in step.client_cpu)
    parts.append(f"CPU: server {step.server_cpu:.2f} cores, clients ({step.clients} processes) {client} of a core each")
    parts.append(f"machine busy {step.machine_busy:.0%}, load {step.load[0]:.1f} → {step.load[1]:.1f}")
    return "; ".join(parts)


def rows(layout: Layout, steps: list[Step], full: bool) -> list[tuple[str, str, str, str]]:
    goal = f"read and answer p99 ≤ {READ_P99_GOAL_MS:.0f} ms, 0 failed handshakes, 0 errors"
    table = [
        (
            f"{layout.name}, {step.verdict.learners} learners",
            summary(step),
            goal,
            "held" if step.verdict.held else "missed",
        )
        for step in sorted(steps, key=lambda step: step.verdict.learners)
    ]
    held = largest_held([step.verdict for step in steps])
    tried = sorted(step.verdict.learners for step in steps)
    kind = "full search" if full else "quick search: a lower bound from few steps, not the capacity figure"
    measured = f"{held if held is not None else 'none'} of the classes tried ({', '.join(map(str, tried))}; {kind})"
    if layout.name == "prod-local":
        verdict = "met" if held is not None and held >= PROD_LOCAL_GOAL else "missed"
        table.append((f"{layout.name}: largest class held", measured, f"≥ {PROD_LOCAL_GOAL} learners", verdict))
    else:
        table.append((f"{layout.name}: largest class held", measured, "no number set (issue #14 asks for it)", ""))
    return table


def keep_logs(work: Path, destination: Path) -> None:
    """Copy a layout's logs (Daphne, prod-local, nginx) out of its data folder before that is removed."""
    destination.mkdir(parents=True, exist_ok=True)
    for log in work.rglob("*.log"):
        shutil.copy(log, destination / "-".join(log.relative_to(work).parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the capacity figure: longer steps, more, bisected")
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--run-steps", nargs="+", type=int)
    parser.add_argument("--prod-steps", nargs="+", type=int)
    parser.add_argument("--hold", type=float, help="seconds each step measures (after ramp and settling)")
    parser.add_argument("--clients", type=int, default=2, help="client processes the learners are spread over")
    parser.add_argument("--database-url", default=DATABASE_URL, help="a PostgreSQL server for prod-local")
    parser.add_argument("--logs", help="a folder to copy each layout's server logs into (they go with its data)")
    args = parser.parse_args()
    mode = FULL if args.full else QUICK
    hold = args.hold or mode["hold"]
    resolution = FULL_RESOLUTION if args.full else QUICK["resolution"]
    steps = {"run": args.run_steps or mode["run"], "prod-local": args.prod_steps or mode["prod-local"]}
    table: list[tuple[str, str, str, str]] = []
    descriptions = []
    for name in args.layouts:
        with tempfile.TemporaryDirectory(prefix="academy-capacity-") as work, ExitStack() as stack:
            if args.logs:  # registered first, so it runs after the layout has stopped
                stack.callback(keep_logs, Path(work), Path(args.logs) / name)
            starting = make_run(Path(work)) if name == "run" else prod_local(Path(work), args.database_url)
            layout = stack.enter_context(starting)
            descriptions.append(layout.description)
            table += rows(layout, search(layout, sorted(steps[name]), resolution, hold, args.clients), args.full)
    command = " ".join(["python bench/capacity_bench.py", *sys.argv[1:]])
    notes = (
        f"Layouts: {'; '.join(descriptions)}, each started as its make target starts it (bench/capacity_layouts.py). "
        f"Learners are signed in with sessions made in the database, spread over {args.clients} client processes "
        "(asyncio, keep-alive HTTP connections; each process's CPU share is in its row, so a client that saturates "
        f"shows). Each learner arrives at a random moment of the first {RAMP_SECONDS:.0f} s and loops: think "
        f"{THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s (uniform), then one round: GET a random topic's concept page "
        f"(`topic`), in {OUTLINE_CHANCE:.0%} of rounds GET the lesson outline (`outline`; `read` is both together), "
        "on its first round of a step start a test-mode attempt (`quiz start`: POST and the attempt page), POST one "
        f"answer graded on the server (`answer`, the htmx form with CSRF), and in {RUN_CHANCE:.0%} of rounds run code "
        "(`code run`, timed from opening the playground socket to the run's `stopped`: open it, run the echo starter, "
        "connect a panel client, send a message and wait for its echo, stop). "
        f"The measuring window opens {RAMP_SECONDS + SETTLE_SECONDS:.0f} s after the first arrival and lasts {hold:.0f} s; "
        "the p50 / p99 (count) are of actions started in it. Failures are counted over the whole step, ramp included: "
        "a failed handshake is a playground socket refused, dropped or not opened within 10 s; an error is any other "
        f"failure (non-200 status, a run stopped or refused, {ACTION_TIMEOUT:.0f} s without an answer). A step holds "
        f"with read p99 ≤ {READ_P99_GOAL_MS:.0f} ms, answer p99 ≤ {ANSWER_P99_GOAL_MS:.0f} ms, no failed handshake and "
        "no error. Steps go up in the listed order until one misses; the full search then halves the gap between the "
        f"largest held and the smallest missed class down to {FULL_RESOLUTION} learners. The largest class held counts "
        "only classes below the smallest missed one. CPU: `server` is the layout's processes (Daphne, nginx and the "
        "sandboxes they reaped; not PostgreSQL or Redis) in cores; `machine busy` is all cores. The machine is "
        "shared while this is developed: the load average beside each step says how quiet it was."
    )
    results = "capacity_RESULTS.md" if args.full else "capacity_quick_RESULTS.md"
    title = "Capacity: the largest class each layout holds" + ("" if args.full else " (quick search)")
    write_results(Path(__file__).with_name(results), title, command, table, notes)


if __name__ == "__main__":
    main()
