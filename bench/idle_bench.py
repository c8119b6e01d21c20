"""Idle WebSocket connections held by one Daphne process over the Redis channel layer, and memory per connection.

Every connection is a signed-in learner's playground page socket (/ws/playground/, PlaygroundConsumer), the one an
open playground tab holds between runs. Separate client processes open them; this process watches Daphne's memory.

Run: .venv/bin/python bench/idle_bench.py [--connections 10000 --clients 1 --redis-url redis://127.0.0.1:6379/0]
Writes bench/idle_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import websockets
from harness import daphne_process, raise_fd_limit, rollup_kib, server_log, session_cookie, write_results
from websockets.protocol import State

CONNECTIONS = 10_000
GOAL_BYTES = 40_000  # "≤ 40 KB each", read strictly as 40,000 bytes
IN_FLIGHT = 100  # handshakes each client process keeps going at once
OPEN_SECONDS = 50.0  # opening stops here, and what was reached is reported
HOLD_SECONDS = 5.0
UNTRIED = "not tried (time limit)"
SCRIPT = str(Path(__file__).resolve())
# What Daphne logs when a consumer's channel-layer receive gives up on Redis (django/channels_redis#422).
REDIS_TIMEOUT = "redis.exceptions.TimeoutError: Timeout reading from"
WARM_UP = 50  # sockets opened and closed before the baseline, so lazy imports and thread pools are not counted


async def open_sockets(job: dict) -> tuple[list, Counter, float]:
    """Open up to job["count"] playground sockets, a bounded number at a time, until done or out of time."""
    gate = asyncio.Semaphore(job["in_flight"])
    sockets: list = []
    problems: Counter = Counter()
    deadline = time.monotonic() + job["seconds"]

    async def one() -> None:
        async with gate:
            if time.monotonic() > deadline:
                problems[UNTRIED] += 1
                return
            try:
                sockets.append(
                    await websockets.connect(
                        job["url"],
                        origin=job["origin"],
                        additional_headers={"Cookie": job["cookie"]},
                        ping_interval=None,  # Daphne pings every 20 s; a second ping stream would be extra load
                        open_timeout=job.get("open_timeout", 15),
                    )
                )
            except websockets.exceptions.InvalidStatus as exc:  # the server answered the handshake with a status
                problems[f"InvalidStatus {exc.response.status_code}"] += 1
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                problems[type(exc).__name__] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(job["count"])))
    return sockets, problems, time.perf_counter() - started


async def still_open(sockets: list) -> dict:
    """Which sockets Daphne still serves (open, and a ping answered within 20 s); close codes of the others."""

    async def pong(socket) -> None:
        await asyncio.wait_for(await socket.ping(), 20)

    answers = await asyncio.gather(*(pong(s) for s in sockets), return_exceptions=True)
    closed = Counter(str(socket.close_code) for socket in sockets if socket.state is not State.OPEN)
    held = sum(socket.state is State.OPEN and answer is None for socket, answer in zip(sockets, answers, strict=True))
    return {"held": held, "closed": closed, "silent": len(sockets) - closed.total() - held}


async def client() -> None:
    """Client process: a job line on stdin, opens its sockets, then answers `check` lines until stdin closes."""
    raise_fd_limit()
    loop = asyncio.get_running_loop()
    job = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    sockets, problems, seconds = await open_sockets(job)
    print(json.dumps({"opened": len(sockets), "problems": problems, "seconds": seconds}), flush=True)
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "check":
        print(json.dumps(await still_open(sockets)), flush=True)


def memory_kib(pid: int) -> dict[str, int]:
    """Daphne's resident and proportional memory, read before and after the connections for the per-connection figure."""
    return {field: rollup_kib(pid, field) for field in ("Rss", "Pss")}


async def ask(proc: asyncio.subprocess.Process, line: str, timeout: float) -> dict:
    """Send one line to a client process and wait (bounded) for its JSON answer."""
    proc.stdin.write(line.encode() + b"\n")
    await proc.stdin.drain()
    answer = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not answer:
        raise RuntimeError("a client process ended without answering")
    return json.loads(answer)


async def measure(job: dict, pid: int, clients: int) -> dict:
    """Baseline memory, open the connections from `clients` processes, hold them, check them, memory again."""
    warm, _, _ = await open_sockets({**job, "count": WARM_UP})
    await asyncio.gather(*(socket.close() for socket in warm))
    await asyncio.sleep(1)
    before = memory_kib(pid)
    shares = [job["count"] // clients + (index < job["count"] % clients) for index in range(clients)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, SCRIPT, "--client", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in shares
    ]
    try:
        opened = await asyncio.gather(
            *(
                ask(proc, json.dumps({**job, "count": share}), job["seconds"] + 30)
                for proc, share in zip(procs, shares, strict=True)
            )
        )
        await asyncio.sleep(HOLD_SECONDS)
        checks = await asyncio.gather(*(ask(proc, "check", 60) for proc in procs))
        after = memory_kib(pid)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
    return {"before": before, "after": after, "opened": opened, "checks": checks}


def totals(figures: dict) -> dict:
    """The client processes' reports added up."""
    problems = sum((Counter(part["problems"]) for part in figures["opened"]), Counter())
    untried = problems.pop(UNTRIED, 0)
    return {
        "opened": sum(part["opened"] for part in figures["opened"]),
        "untried": untried,
        "failed": problems,
        "held": sum(check["held"] for check in figures["checks"]),
        "silent": sum(check["silent"] for check in figures["checks"]),
        "closed": sum((Counter(check["closed"]) for check in figures["checks"]), Counter()),
        "seconds": max(part["seconds"] for part in figures["opened"]),
    }


def memory_row(field: str, figures: dict, held: int) -> tuple[str, str, str, str]:
    """Growth of one memory figure of Daphne, per connection held, against the goal."""
    before, after = figures["before"][field], figures["after"][field]
    per_byte = (after - before) * 1024 / max(held, 1)
    return (
        f"Daphne {field.upper()} per connection",
        f"{per_byte / 1024:.1f} KiB ({before / 1024:.0f} MiB → {after / 1024:.0f} MiB)",
        "≤ 40 KB",
        "met" if per_byte <= GOAL_BYTES else "missed",
    )


def table(requested: int, figures: dict, server_timeouts: int) -> list[tuple[str, str, str, str]]:
    """The results table: what was opened, what failed, what was held, and the memory per connection."""
    t = totals(figures)
    untried = f"; {t['untried']} not tried within the {OPEN_SECONDS:.0f} s limit" if t["untried"] else ""
    failed = ", ".join(f"{count} {name}" for name, count in t["failed"].items())
    lost = [f"{count} closed with code {code}" for code, count in t["closed"].items()]
    lost += [f"{t['silent']} open but not answering"] if t["silent"] else []
    return [
        (
            "connections opened",
            f"{t['opened']} of {requested} in {t['seconds']:.1f} s ({t['opened'] / t['seconds']:.0f}/s){untried}",
            "",
            "",
        ),
        (
            "connections that failed to open",
            f"{t['failed'].total()}" + (f" ({failed})" if failed else ""),
            "0",
            "met" if not t["failed"] else "missed",
        ),
        (
            f"idle playground sockets held by one Daphne process after {HOLD_SECONDS:.0f} s",
            f"{t['held']} open and answering a ping" + "".join(f"; {item}" for item in lost),
            f"{CONNECTIONS:,}",
            "met" if t["held"] >= CONNECTIONS else "missed",
        ),
        (
            "consumers ended by a Redis read timeout (Daphne's log)",
            str(server_timeouts),
            "0",
            "met" if not server_timeouts else "missed",
        ),
        memory_row("Rss", figures, t["held"]),
        memory_row("Pss", figures, t["held"]),
    ]


def server_env(redis_url: str) -> dict[str, str]:
    """The Redis layer as production runs it, under a prefix of our own so others using this Redis are untouched."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "ACADEMY_TEST_CHANNEL_LAYER": "redis",
        "ACADEMY_TEST_RUN_ID": f"bench-idle-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": redis_url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--clients", type=int, default=1, help="client processes sharing the connections")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client())
        return
    if "127.0.0.1" not in args.redis_url and "localhost" not in args.redis_url:
        raise SystemExit("benchmarks only target loopback: give a redis://127.0.0.1 URL")
    raise_fd_limit()
    with daphne_process(server_env(args.redis_url), preexec_fn=raise_fd_limit) as (url, env, server):
        job = {
            "url": url.replace("http://", "ws://") + "/ws/playground/",
            "origin": url,
            "cookie": session_cookie(env, "bench-idle"),
            "count": args.connections,
            "in_flight": IN_FLIGHT,
            "seconds": OPEN_SECONDS,
        }
        figures = asyncio.run(measure(job, server.pid, args.clients))
        server_timeouts = server_log(env).count(REDIS_TIMEOUT)
    load = os.getloadavg()
    notes = (
        "One Daphne process (DEBUG off, SQLite) over the Redis channel layer, as production runs it (channels-redis "
        f"on the loopback Redis at {args.redis_url}, under a channel-layer prefix of this run's own, set the way "
        "config/test_settings.py sets it). Every connection is the signed-in playground page socket "
        "(/ws/playground/, PlaygroundConsumer behind the origin check and the session), one demo learner's session "
        f"cookie reused for all of them. {args.clients} separate client process(es) with the websockets library "
        f"(asyncio) open them, {IN_FLIGHT} handshakes at a time each, for at most {OPEN_SECONDS:.0f} s; the open-file "
        "limit is raised to its hard limit in the server and the clients. The connections are then held for "
        f"{HOLD_SECONDS:.0f} s and checked before memory is read: one counts as held when it is still open and "
        "answers a ping through Daphne. "
        "Per connection = growth of Daphne's RSS and PSS (/proc/PID/smaps_rollup) from a baseline taken after "
        f"{WARM_UP} warm-up sockets were opened and closed, divided by the connections held; it covers Daphne's "
        "protocol objects, the ASGI scope, the consumer and its channel-layer receive. Clients and server share the "
        "2-core machine; the server's single core is what limits the opening rate.\n\n"
        "Closed with 1011 (the row above counts them in Daphne's log): channels-redis waits on Redis with a 5 s "
        "BZPOPMIN in whichever consumer runs the process's receive loop, and redis-py 8 gives every connection a 5 s "
        "socket timeout by default, so that read could time out first and kill the consumer "
        "(django/channels_redis#422). The first run of this benchmark lost 8 of 10,000 sockets that way; "
        "CHANNEL_LAYERS now set socket_timeout to CHANNEL_LAYER_SOCKET_TIMEOUT (15 s). "
        "The count stays so a regression shows.\n\n"
        f"Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (on a machine shared with other "
        "work the figures are provisional)."
    )
    write_results(
        Path(__file__).with_name("idle_RESULTS.md"),
        "Idle WebSocket connections",
        f"python bench/idle_bench.py --connections {args.connections} --clients {args.clients}",
        table(args.connections, figures, server_timeouts),
        notes,
    )


if __name__ == "__main__":
    main()
