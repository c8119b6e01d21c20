"""Sandbox latency and memory: run->ready from the pool and cold, PSS per idle sandbox, echo round trips.

Run: .venv/bin/python bench/sandbox_bench.py [--write bench/sandbox_RESULTS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import rollup_kib

from playground.sandbox import Sandbox, SandboxLimits, SandboxOptions, SandboxPool
from playground.sandbox.host import envbuild, procs
from playground.sandbox.host.options import PRELOAD_FULL, PRELOAD_MINIMAL

ECHO = """
from channels.generic.websocket import AsyncWebsocketConsumer

class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)
"""
ROUTED = (
    ECHO
    + """
from django.urls import path
websocket_urlpatterns = [path("ws/echo/", EchoConsumer.as_asgi())]
"""
)
LIMITS = SandboxLimits(lifetime_seconds=600, idle_seconds=600)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in the values' unit."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50) * 1000:.1f} ms, p95 {pct(values, 95) * 1000:.1f} ms, p99 {pct(values, 99) * 1000:.1f} ms"
    )


async def until_loaded(sandbox: Sandbox) -> None:
    """Wait for the `loaded` event (or fail on anything that ends the run)."""
    while (event := await sandbox.next_event(10)) is not None:
        if event["type"] == "loaded":
            return
        if event["type"] in ("error", "exit"):
            raise RuntimeError(event)
    raise RuntimeError("no loaded event")


async def cold(n: int, options: SandboxOptions, code: str) -> tuple[list[float], list[float]]:
    """(start->ready, start->loaded) for sandboxes started on demand."""
    ready, loaded = [], []
    for _ in range(n):
        started = time.perf_counter()
        sandbox = await Sandbox.start(LIMITS, options)
        ready.append(time.perf_counter() - started)
        await sandbox.load(code)
        await until_loaded(sandbox)
        loaded.append(time.perf_counter() - started)
        await sandbox.stop()
    return ready, loaded


async def pooled(n: int, options: SandboxOptions, code: str) -> tuple[list[float], list[float]]:
    """(acquire->ready, acquire->loaded) from a warm pool (refilled between runs, as a quiet server would be)."""
    pool = SandboxPool(2, LIMITS, options)
    await pool.start()
    ready, loaded = [], []
    try:
        for _ in range(n):
            assert await pool.wait_full(30)
            started = time.perf_counter()
            sandbox = await pool.acquire()
            ready.append(time.perf_counter() - started)
            await sandbox.load(code)
            await until_loaded(sandbox)
            loaded.append(time.perf_counter() - started)
            await sandbox.stop()
        assert pool.cold_starts == 0
    finally:
        await pool.close()
    return ready, loaded


def tree_pss_kib(table: dict, pid: int) -> dict[int, int]:
    """PSS in KiB of each process in a sandbox's tree (bwrap, its pid-1 helper, the harness)."""
    return {member: rollup_kib(member, "Pss") for member in procs.tree(table, pid)}


async def idle_pss(count: int, options: SandboxOptions) -> tuple[float, float]:
    """(MiB per sandbox for its whole process tree, MiB for the harness alone) with `count` idle sandboxes."""
    sandboxes = [await Sandbox.start(LIMITS, options) for _ in range(count)]
    await asyncio.sleep(0.5)
    table = procs.scan()
    trees, harnesses = [], []
    for sandbox in sandboxes:
        sizes = tree_pss_kib(table, sandbox.pid)
        trees.append(sum(sizes.values()))
        harnesses.append(max(sizes.values()))
    for sandbox in sandboxes:
        await sandbox.stop()
    return statistics.mean(trees) / 1024, statistics.mean(harnesses) / 1024


async def until_echoed(sandbox: Sandbox, body: str, timeout: float = 5) -> None:
    """Wait for the consumer to send `body` back (or fail if the sandbox ends first)."""
    while True:
        event = await sandbox.next_event(timeout)
        if event is None or event["type"] == "exit":
            raise RuntimeError("echo sandbox ended")
        if event["type"] == "consumer.send" and event["text"] == body:
            return


async def round_trips(n: int) -> list[float]:
    """Seconds from send() of a client message to the echoed `send` event, one at a time."""
    sandbox = await Sandbox.start(LIMITS)
    await sandbox.load(ECHO)
    await until_loaded(sandbox)
    await sandbox.send({"type": "client.connect", "client": "c1", "path": "/"})
    await sandbox.settle(5)
    timings = []
    for index in range(n):
        body = f"m{index}"
        started = time.perf_counter()
        await sandbox.send({"type": "client.send", "client": "c1", "text": body})
        await until_echoed(sandbox, body)
        timings.append(time.perf_counter() - started)
    await sandbox.stop()
    return timings


async def main(runs: int) -> str:
    envbuild.build()
    minimal, full = SandboxOptions(preload=PRELOAD_MINIMAL), SandboxOptions(preload=PRELOAD_FULL)
    await cold(3, minimal, ECHO)  # warm the page cache and the harness copy
    results = {
        "cold, preload=minimal, plain consumer": await cold(runs, minimal, ECHO),
        "cold, preload=minimal, websocket_urlpatterns": await cold(runs, minimal, ROUTED),
        "pool, preload=minimal, plain consumer": await pooled(runs, minimal, ECHO),
        "pool, preload=minimal, websocket_urlpatterns": await pooled(runs, minimal, ROUTED),
        "pool, preload=full, websocket_urlpatterns": await pooled(runs, full, ROUTED),
    }
    memory = {"minimal": await idle_pss(5, minimal), "full": await idle_pss(5, full)}
    echo = await round_trips(runs * 10)
    lines = [
        "# Sandbox benchmark results",
        "",
        f"Command: `.venv/bin/python bench/sandbox_bench.py --runs {runs} --write bench/sandbox_RESULTS.md`",
        "",
        f"Host: {platform.node()}, {platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPUs, "
        f"kernel {platform.release()}; owner Python {platform.python_version()}, sandbox /usr/bin/python3; "
        f"mode {SandboxOptions().mode}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "## run -> ready / run -> loaded",
        "",
        "`ready`: a sandbox able to take code (from `Sandbox.start()` or `pool.acquire()`).",
        "`loaded`: additionally the learner module ran and the harness reported `loaded` (what a learner waits for).",
        "",
        "| scenario | run -> ready | run -> loaded |",
        "| --- | --- | --- |",
    ]
    for name, (ready, loaded) in results.items():
        lines.append(f"| {name} ({runs} runs) | {ms(ready)} | {ms(loaded)} |")
    lines += [
        "",
        "## Memory per idle sandbox (PSS, /proc/PID/smaps_rollup, 5 idle sandboxes)",
        "",
        "| preload | whole tree (bwrap + pid-1 helper + harness) | harness process |",
        "| --- | --- | --- |",
    ]
    for name, (tree, harness) in memory.items():
        lines.append(f"| {name} | {tree:.1f} MiB | {harness:.1f} MiB |")
    lines += [
        "",
        "## Echo round trip through the harness",
        "",
        f"`send()` of a client message until its echoed `send` event, {len(echo)} sequential messages: {ms(echo)}.",
        "",
        "Goals: pool p50 <= 10 ms, cold p95 <= 100 ms, <= 20 MB PSS idle.",
        "",
        "## Reading these numbers",
        "",
        "- A pooled sandbox is already at `ready`, so acquire is a deque pop; what a learner waits for is",
        "  run -> loaded. With the default `preload=minimal` a consumer without URL routing loads in a few ms;",
        "  `from django.urls import ...` (needed for `websocket_urlpatterns`) imports django.http and",
        "  django.db.models on first use, ~60 ms on this host. `preload=full` pays that before `ready`,",
        "  at ~12 MiB more PSS per idle sandbox (over the 20 MB goal).",
        "- Cold starts are bwrap (~10 ms) + interpreter + asyncio (~27 ms here) + Channels; the p95 moves by",
        "  10-20 ms with other load on this 2-core VM (an earlier run during a test suite: p95 109 ms).",
        "- PSS counts shared pages proportionally; the harness's ~14 MiB is mostly its private heap.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="write the Markdown results here")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    report = asyncio.run(main(args.runs))
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
