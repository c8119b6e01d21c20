"""From a run's process dying to its live clients getting their close (issue 20: within one heartbeat).

A learner runs the echo starter; a live client (an outside WebSocket client on the run's live URL) sits on another
process and has its echo answered; then the process that owns the run is killed with SIGKILL: a Daphne process in
page mode, the playground worker in workers mode. The figure is the time from the kill to the close frame the live
client gets (4012, the run's owner went silent), against PLAYGROUND_HEARTBEAT_SECONDS.

Run: .venv/bin/python bench/live_close_bench.py [--rounds 5 --heartbeat 10 --redis-url redis://127.0.0.1:6379/0]
Writes bench/live_close_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import websockets
from harness import (
    daphne_args,
    make_sessions,
    manage,
    percentile,
    site_process,
    starter,
    stop_process,
    write_results,
)

from tests.conftest import free_port, production_env, wait_for_http

CLOSE_RUN_LOST = 4012  # playground.live.CLOSE_RUN_LOST
STEP_SECONDS = 60  # any one step (a run starting, an echo) taking longer than this is a failed round


@contextmanager
def server(env: dict[str, str], log: Path, *command: str) -> Iterator[subprocess.Popen]:
    """A process of the site (Daphne or runworker) in its own process group, so a kill takes its sandboxes too."""
    proc = site_process(env, log, *command)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop_process(proc)


@contextmanager
def daphne(env: dict[str, str], data: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    with server(env, data / f"daphne-{port}.log", *daphne_args(port)) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/healthz", proc)  # the first /healthz runs the sandbox gate
        yield url, proc


@contextmanager
def runworker(env: dict[str, str], data: Path) -> Iterator[subprocess.Popen]:
    log = data / "runworker.log"
    listening = log.read_text().count("Running worker for channels") if log.exists() else 0
    with server(env, log, "manage.py", "runworker", "playground-runs") as proc:
        deadline = time.monotonic() + STEP_SECONDS * 2
        while log.read_text(errors="replace").count("Running worker for channels") <= listening:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("runworker did not start:\n" + log.read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        yield proc


def messages(frame: str) -> list[dict]:
    """A page frame's messages (the server batches them under load)."""
    message = json.loads(frame)
    return message["messages"] if message["type"] == "batch" else [message]


async def live_url_of_a_running_echo(page: websockets.ClientConnection) -> str:
    await page.send(json.dumps({"type": "run", "code": starter("echo"), "starter": "echo"}))
    live_url, running = None, False
    while not running:
        for message in messages(await asyncio.wait_for(page.recv(), STEP_SECONDS)):
            live_url = message["url"] if message["type"] == "live" else live_url
            running = running or (message["type"] == "status" and message["state"] == "running")
    assert live_url, "no live URL before the run was running"
    return live_url


async def one_round(page_url: str, live_base: str, cookie: str, owner: subprocess.Popen) -> tuple[float, int | None]:
    """Seconds from killing the run's owner to the live client's close, and the close code."""
    async with websockets.connect(
        page_url.replace("http", "ws") + "/ws/playground/", origin=page_url, additional_headers={"Cookie": cookie}
    ) as page:
        live_url = await live_url_of_a_running_echo(page)
        token_path = live_url.split("/ws/live/", 1)[1]
        async with websockets.connect(
            f"{live_base.replace('http', 'ws')}/ws/live/{token_path}ws/echo/", open_timeout=STEP_SECONDS
        ) as client:
            await client.send("before")
            assert await asyncio.wait_for(client.recv(), STEP_SECONDS) == "before"
            killed = time.perf_counter()
            os.killpg(owner.pid, signal.SIGKILL)
            try:
                await asyncio.wait_for(client.wait_closed(), STEP_SECONDS * 5)
            except TimeoutError:
                return float("inf"), None
            return time.perf_counter() - killed, client.close_code


def page_mode(env: dict[str, str], data: Path, cookies: list[str], rounds: int) -> list[tuple[float, int | None]]:
    """The owner is a Daphne (killed and started afresh each round); the live client sits on a second Daphne."""
    results = []
    with daphne(env, data) as (survivor, _):
        for n in range(rounds):
            with daphne(env, data) as (owner_url, owner):
                results.append(asyncio.run(one_round(owner_url, survivor, cookies[n], owner)))
    return results


def workers_mode(env: dict[str, str], data: Path, cookies: list[str], rounds: int) -> list[tuple[float, int | None]]:
    """The owner is the playground worker (killed and started afresh each round); page and live client on Daphne."""
    env = {**env, "PLAYGROUND_EXECUTION": "workers"}
    results = []
    with daphne(env, data) as (web, _):
        for n in range(rounds):
            with runworker(env, data) as worker:
                results.append(asyncio.run(one_round(web, web, cookies[n], worker)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--heartbeat", type=int, default=10, help="PLAYGROUND_HEARTBEAT_SECONDS (production default)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="academy-bench-") as folder:
        data = Path(folder)
        env = production_env(data, REDIS_URL=args.redis_url, PLAYGROUND_HEARTBEAT_SECONDS=str(args.heartbeat))
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        cookies = [f"sessionid={key}" for key in make_sessions(env, 2 * args.rounds)]
        scenarios = {
            "a Daphne process (page mode)": page_mode(env, data, cookies[: args.rounds], args.rounds),
            "the playground worker (workers mode)": workers_mode(env, data, cookies[args.rounds :], args.rounds),
        }
    loads.append(os.getloadavg()[0])
    rows = []
    for owner, results in scenarios.items():
        seconds = [s for s, _ in results]
        codes = sorted({str(code) for _, code in results})
        line = f"p50 {percentile(seconds, 50):.2f} s / max {max(seconds):.2f} s ({len(seconds)} rounds)"
        rows += [
            (
                f"kill of {owner} -> live client closed",
                line,
                f"≤ {args.heartbeat} s",
                verdict(max(seconds), args.heartbeat),
            ),
            (f"close codes the live clients got, {owner}", ", ".join(codes), str(CLOSE_RUN_LOST), met(codes)),
        ]
    default = " (the production default)" if args.heartbeat == 10 else ""
    notes = (
        f"Daphne processes with DEBUG off on SQLite over the Redis channel layer, PLAYGROUND_HEARTBEAT_SECONDS="
        f"{args.heartbeat}{default}. Each round a new learner runs the echo starter; a live client on another process "
        "than the run's owner has one echo answered; right after that echo the owner's process group gets SIGKILL "
        "(its sandboxes die with it) and the time to the live client's close frame is taken. The owner beats to each "
        "live client's proxy four times a heartbeat and the proxy closes after three beats' time (3/4 of a heartbeat) "
        "without a word from the owner. The echo is such a word, so every round here is the worst case: the close "
        "comes 3/4 of a heartbeat after the owner's last frame plus its delivery and the machine's delays (a kill at "
        "a random moment would be told between 1/2 and 3/4 of a heartbeat after it). Load average "
        f"{loads[0]:.1f} at the start and {loads[1]:.1f} at the end on {os.cpu_count()} cores (other sessions' work)."
    )
    write_results(
        Path(__file__).with_name("live_close_RESULTS.md"),
        "A run's process dies: its live clients are told",
        f"python bench/live_close_bench.py --rounds {args.rounds} --heartbeat {args.heartbeat}",
        rows,
        notes,
    )


def verdict(worst: float, heartbeat: int) -> str:
    return "met" if worst <= heartbeat else "missed"


def met(codes: list[str]) -> str:
    return "met" if codes == [str(CLOSE_RUN_LOST)] else "missed"


if __name__ == "__main__":
    main()
