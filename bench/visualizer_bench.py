"""Visualizer speed: trace events per second from the harness, tracing cost against an untraced run,
consumer send() -> row visible in the browser, and a 1,000-event run rendered and stepped without long tasks.

Run: .venv/bin/python bench/visualizer_bench.py
Writes bench/visualizer_RESULTS.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from harness import ROOT, daphne_server, session_cookie, write_results

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(ROOT))
import django

django.setup()

from channels.testing import WebsocketCommunicator  # noqa: E402

from playground.run.limits import run_limits  # noqa: E402
from playground.sandbox import run_script  # noqa: E402
from playground.sandbox_supply import sandbox_options  # noqa: E402
from tests.support.learner_code import BURST  # noqa: E402

MESSAGES = 2000


async def traced_seconds() -> tuple[float, int]:
    ops = [
        {"type": "client.connect", "client": "c1", "path": "/ws/burst/"},
        {"type": "client.send", "client": "c1", "text": str(MESSAGES)},
    ]
    started = time.perf_counter()
    events = await run_script(BURST, ops, run_limits().replace(max_events=50_000), 60, options=sandbox_options())
    elapsed = time.perf_counter() - started
    return elapsed, sum(1 for e in events if e["type"] == "trace")


async def untraced_seconds() -> float:
    """The same consumer and messages through Channels' own test communicator, in this process, untraced."""
    namespace: dict = {}
    exec(compile(BURST, "burst.py", "exec"), namespace)
    started = time.perf_counter()
    communicator = WebsocketCommunicator(namespace["Burst"].as_asgi(), "/ws/burst/")
    await communicator.connect()
    await communicator.send_to(text_data=str(MESSAGES))
    for _ in range(MESSAGES):
        await communicator.receive_from()
    await communicator.disconnect()
    return time.perf_counter() - started


def browser_figures(url: str, cookie: str) -> tuple[list[float], int, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context()
        name, value = cookie.split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": url}])
        page = context.new_page()
        page.goto(url + "/playground/")
        page.wait_for_selector("#playground[data-connected=true]")
        page.evaluate("(code) => window.playground.editor.raw.setValue(code, -1)", BURST)
        page.evaluate(
            """() => { window.longTasks = []; new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push(e.duration))).observe({ type: "longtask", buffered: false }); }"""
        )
        page.click("#run-button")
        page.wait_for_selector("#run-status[data-state=running]")
        page.fill("#client-path", "/ws/burst/")
        page.click("text=Add client")
        page.click(".client-card >> text=Connect")
        page.wait_for_selector(".client-card .client-state:text('open')")
        latencies = page.evaluate(
            """async () => {
                // The table keeps a window of rows, so "a new row" is a new last row that is a send.
                const rows = () => {
                    const last = document.querySelector('.viz-table tbody tr:last-child[data-kind="send"]');
                    return last ? last.dataset.index : null;
                };
                const samples = [];
                for (let i = 0; i < 100; i++) {
                    const before = rows();
                    const started = performance.now();
                    window.playground.send({ type: "client.send", client: "c1", text: "1" });
                    while (rows() === null || rows() === before) await new Promise((r) => requestAnimationFrame(r));
                    samples.push(performance.now() - started);
                }
                return samples;
            }"""
        )
        page.evaluate("window.longTasks = []")
        page.evaluate("window.playground.send({ type: 'client.send', client: 'c1', text: '900' })")
        page.wait_for_function("() => window.playground.visualizer.events.length >= 1000", timeout=30000)
        total_rows = page.evaluate("window.playground.visualizer.events.length")
        page.wait_for_timeout(500)
        streaming = page.evaluate("window.longTasks.splice(0)")
        viz = page.locator(".visualizer")
        viz.focus()
        for _ in range(50):
            page.keyboard.press("ArrowLeft")
        page.click("[data-viz=first]")
        page.click("[data-viz=last]")
        page.wait_for_timeout(500)
        stepping = page.evaluate("window.longTasks.splice(0)")
        browser.close()
    return latencies, total_rows, (streaming, stepping)


ROUNDS = 3


def main() -> None:
    traced, events = asyncio.run(traced_seconds())
    untraced = asyncio.run(untraced_seconds())
    latencies: list[float] = []
    streaming: list[list[float]] = []
    stepping: list[list[float]] = []
    with daphne_server() as (url, env):
        for round_ in range(ROUNDS):  # the browser figures vary from run to run on a shared 2-core machine
            cookie = session_cookie(env, f"bench-viz-{round_}")
            round_latencies, rows, (round_streaming, round_stepping) = browser_figures(url, cookie)
            latencies += round_latencies
            streaming.append(round_streaming)
            stepping.append(round_stepping)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    rows_table = [
        (
            "trace events emitted by the harness",
            f"{events / traced:.0f} events/s ({events} events in {traced:.2f} s, sandbox start included)",
            "",
            "",
        ),
        (
            "traced sandbox run vs untraced in-process run",
            f"{traced:.2f} s vs {untraced:.2f} s = {traced / untraced:.1f}×",
            "",
            "measured",
        ),
        (
            "consumer send() -> row visible in the browser p50 / p99",
            f"{statistics.median(latencies):.1f} ms / {p99:.1f} ms",
            "p99 ≤ 50 ms",
            "met" if p99 <= 50 else "missed",
        ),
        *(
            (
                f"{rows}-row run: long tasks (> 50 ms) while {phase}, per round",
                " / ".join(
                    f"{len(tasks)}" + (f" ({', '.join(f'{t:.0f}' for t in tasks)} ms)" if tasks else "")
                    for tasks in rounds
                ),
                "0",
                "met" if not any(rounds) else "missed",
            )
            for phase, rounds in (("its rows stream in", streaming), ("stepping through it", stepping))
        ),
    ]
    notes = (
        f"The burst consumer sends {MESSAGES} messages for one received message. The untraced baseline runs the same consumer "
        "through channels.testing.WebsocketCommunicator in this process (no sandbox, no tracing), so the ratio includes the "
        "sandbox start and the pipe protocol as well as tracing. Browser figures: Debian Chromium headless driven by Playwright, "
        "one Daphne process, in-memory layer, page and server on the same 2-core machine; a send is timed from the page's "
        "client.send to the new row in the execution table, over 100 sends in each of the rounds, pooled."
    )
    write_results(
        Path(__file__).with_name("visualizer_RESULTS.md"),
        "Step-through visualizer",
        "python bench/visualizer_bench.py",
        rows_table,
        notes,
    )


if __name__ == "__main__":
    main()
