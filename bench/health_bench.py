"""Readiness (/healthz) latency on one Daphne over Redis with 200 signed-in playground sockets open (issue 20 item 1).

Run: .venv/bin/python bench/health_bench.py [--sockets 200 --probes 100 --redis-url redis://127.0.0.1:6379/0]
Writes bench/health_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import websockets
from harness import daphne_process, make_sessions, percentile, write_results

GOAL_MS = 100.0
PROBE_INTERVAL = 0.1  # seconds between probes, one at a time, as a load balancer would


def probe(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, (time.perf_counter() - started) * 1000


async def probes(url: str, count: int) -> list[tuple[int, float]]:
    answers = []
    for _ in range(count):
        answers.append(await asyncio.to_thread(probe, url))
        await asyncio.sleep(PROBE_INTERVAL)
    return answers


async def with_sockets_open(base: str, sessions: list[str], count: int) -> tuple[list[tuple[int, float]], int]:
    ws_url = base.replace("http", "ws") + "/ws/playground/"
    sockets = [
        await websockets.connect(ws_url, origin=base, additional_headers={"Cookie": f"sessionid={key}"})
        for key in sessions
    ]
    try:
        answers = await probes(base + "/healthz", count)
        still_open = sum(socket.close_code is None for socket in sockets)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))
    return answers, still_open


def summary(answers: list[tuple[int, float]]) -> tuple[int, str, float]:
    """How many answered 200, the latency line, and the slowest answer (ms)."""
    ms = [latency for _, latency in answers]
    line = f"p50 {percentile(ms, 50):.1f} ms / p95 {percentile(ms, 95):.1f} ms / max {max(ms):.1f} ms"
    return sum(status == 200 for status, _ in answers), line, max(ms)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with daphne_process({"REDIS_URL": args.redis_url}) as (url, env, _proc):
        sessions = make_sessions(env, args.sockets)
        asyncio.run(probes(url + "/healthz", 5))  # the first probe runs the sandbox start gate
        idle = asyncio.run(probes(url + "/healthz", args.probes))
        busy, still_open = asyncio.run(with_sockets_open(url, sessions, args.probes))
    idle_ok, idle_line, _ = summary(idle)
    busy_ok, busy_line, busy_max = summary(busy)
    n = args.probes
    rows = [
        ("readiness answers 200, no sockets open", f"{idle_ok} of {n}", "all", verdict(idle_ok == n)),
        ("readiness latency, no sockets open", idle_line, "", ""),
        (f"readiness answers 200, {args.sockets} sockets open", f"{busy_ok} of {n}", "all", verdict(busy_ok == n)),
        (
            f"readiness latency, {args.sockets} sockets open",
            busy_line,
            f"≤ {GOAL_MS:.0f} ms",
            verdict(busy_max <= GOAL_MS),
        ),
        (
            "sockets still open after the probes",
            f"{still_open} of {args.sockets}",
            "all",
            verdict(still_open == args.sockets),
        ),
    ]
    notes = (
        "One Daphne process (DEBUG off, SQLite) over the Redis channel layer, as production runs it. Each socket is a "
        "different signed-in learner's playground page socket (/ws/playground/), idle between runs; every one of them "
        "runs channels-redis's receive loop for its channel. /healthz is probed one request at a time every "
        f"{PROBE_INTERVAL} s from a separate thread of the client process (wall time from request to full answer). "
        "Readiness is a SELECT 1, a Redis PING on the channel layer's own pool and the sandbox gate's cached verdict; "
        "it no longer sends itself a message through the process's shared receive loop. Clients and server share the "
        f"2-core machine; load average {os.getloadavg()[0]:.1f} when the probes ended (other work on the machine shows "
        "as the slowest answers)."
    )
    command = f"python bench/health_bench.py --sockets {args.sockets} --probes {args.probes}"
    results = Path(__file__).resolve().parent / "health_RESULTS.md"
    write_results(results, "Readiness with playground sockets open", command, rows, notes)


if __name__ == "__main__":
    main()
