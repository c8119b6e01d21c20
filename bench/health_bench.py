"""Readiness (/healthz) latency on one Daphne over Redis with 200 signed-in playground sockets open (issue 20 item 1),
with a profile of where the time goes: each check's own time (from the details) and /livez, which does no work, as
the floor the process and the machine set.

Run: .venv/bin/python bench/health_bench.py [--sockets 200 --probes 100 --redis-url redis://127.0.0.1:6379/0
     --database-url postgres://postgres@127.0.0.1:5432/postgres]   (without --database-url: SQLite)
Writes bench/health_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import websockets
from harness import daphne_process, make_sessions, percentile, write_results

from config.redis_urls import next_redis_database
from config.socket_caps import DEFAULT_PREFIX, SLOT_LEASE_SECONDS, RedisSlots, address_key
from tests.conftest import HEALTHZ_TOKEN

GOAL_MS = 100.0
PROBE_INTERVAL = 0.1  # seconds between probes, one at a time, as a load balancer would


def probe(url: str, headers: dict[str, str]) -> tuple[int, float, dict]:
    """Status, wall time (ms) and body of one request."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, (time.perf_counter() - started) * 1000, json.loads(body or b"{}")


async def probes(base: str, count: int) -> dict[str, list]:
    """Readiness with details (each check's time) and liveness, one request at a time, as a load balancer probes."""
    seen: dict[str, list] = {"healthz": [], "livez": [], "database": [], "channel_layer": []}
    for _ in range(count):
        status, ms, body = await asyncio.to_thread(probe, base + "/healthz", {"X-Healthz-Token": HEALTHZ_TOKEN})
        seen["healthz"].append((status, ms))
        for check in ("database", "channel_layer"):
            seen[check].append((200, body["checks"][check]["ms"]))
        seen["livez"].append((await asyncio.to_thread(probe, base + "/livez", {}))[:2])
        await asyncio.sleep(PROBE_INTERVAL)
    return seen


def wait_for_released_socket_slots(redis_url: str) -> None:
    """Keep the server up until its consumers have given back the per-address socket slots of the closed sockets:
    stopped first, it would leave them leased, and the next benchmark's sockets from 127.0.0.1 would be refused
    (4013) until the leases ran out."""
    cache_url = next_redis_database(redis_url)  # settings.REDIS_CACHE_URL's default, with no key prefix
    client = redis.Redis.from_url(cache_url)
    key = RedisSlots(cache_url, DEFAULT_PREFIX).name(address_key("127.0.0.1"))
    deadline = time.monotonic() + SLOT_LEASE_SECONDS  # after it the slots expire anyway
    while client.zcard(key) and time.monotonic() < deadline:
        time.sleep(0.2)
    client.close()


async def with_sockets_open(base: str, sessions: list[str], count: int) -> tuple[dict[str, list], int]:
    ws_url = base.replace("http", "ws") + "/ws/playground/"
    sockets = [
        await websockets.connect(ws_url, origin=base, additional_headers={"Cookie": f"sessionid={key}"})
        for key in sessions
    ]
    try:
        answers = await probes(base, count)
        still_open = sum(socket.close_code is None for socket in sockets)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))
    return answers, still_open


@contextmanager
def database(server_url: str | None):
    """A database of the benchmark's own on that PostgreSQL server (dropped afterwards), or SQLite without one."""
    if not server_url:
        yield {}
        return
    server = server_url.rsplit("/", 1)[0]
    name = f"bench_health_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": f"{server}/{name}"}
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (the benchmark makes its database)")
    args = parser.parse_args()
    with (
        database(args.database_url) as database_env,
        daphne_process({"REDIS_URL": args.redis_url, **database_env}) as (
            url,
            env,
            _proc,
        ),
    ):
        sessions = make_sessions(env, args.sockets)
        asyncio.run(probes(url, 5))  # the first probe runs the sandbox start gate
        loads = [os.getloadavg()[0]]
        idle = asyncio.run(probes(url, args.probes))
        busy, still_open = asyncio.run(with_sockets_open(url, sessions, args.probes))
        loads.append(os.getloadavg()[0])
        wait_for_released_socket_slots(args.redis_url)
    idle_ok, idle_line, _ = summary(idle["healthz"])
    busy_ok, busy_line, busy_max = summary(busy["healthz"])
    n, s = args.probes, args.sockets
    rows = [
        ("readiness answers 200, no sockets open", f"{idle_ok} of {n}", "all", verdict(idle_ok == n)),
        ("readiness latency, no sockets open", idle_line, "", ""),
        (f"readiness answers 200, {s} sockets open", f"{busy_ok} of {n}", "all", verdict(busy_ok == n)),
        (f"readiness latency, {s} sockets open", busy_line, f"≤ {GOAL_MS:.0f} ms", verdict(busy_max <= GOAL_MS)),
        (f"of which the database check, {s} sockets open", summary(busy["database"])[1], "", ""),
        (f"of which the Redis check, {s} sockets open", summary(busy["channel_layer"])[1], "", ""),
        (f"liveness latency (no work: the floor), {s} sockets open", summary(busy["livez"])[1], "", ""),
        ("sockets still open after the probes", f"{still_open} of {s}", "all", verdict(still_open == s)),
    ]
    vendor = "PostgreSQL on this machine" if args.database_url else "SQLite"
    notes = (
        f"One Daphne process (DEBUG off, {vendor}) over the Redis channel layer, as production runs it. Each socket is "
        "a different signed-in learner's playground page socket (/ws/playground/), idle between runs; every one of "
        "them runs channels-redis's receive loop for its channel. /healthz (with the token, so each check's own time "
        "is in the answer) and then /livez are probed one request at a time every "
        f"{PROBE_INTERVAL} s from a separate thread of the client process (wall time from request to full answer). "
        "Readiness is answered on the event loop before Django (config/health.py, HealthProbes): no middleware, no "
        "request thread; a SELECT 1 on readiness's own async psycopg connection, kept between probes (SQLite: in a "
        "thread of its own), a Redis PING "
        "on the channel layer's own pool and the sandbox gate's cached verdict. /livez does none of that, so its "
        "figure is what the process and the machine cost any request. Clients and server share the 2-core machine; "
        f"load average {loads[0]:.1f} when the probes started and {loads[1]:.1f} when they ended (other sessions' "
        "work shows as the slowest answers of both /healthz and /livez)."
    )
    command = f"python bench/health_bench.py --sockets {s} --probes {n}" + (
        " --database-url …" if args.database_url else ""
    )
    results = Path(__file__).resolve().parent / "health_RESULTS.md"
    write_results(results, "Readiness with playground sockets open", command, rows, notes)


if __name__ == "__main__":
    main()
