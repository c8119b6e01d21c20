"""Where an idle playground socket's memory goes: tracemalloc snapshots of one Daphne at N and at 2N idle sockets.

The Daphne runs under bench/traced_serve.py (tracemalloc on, a snapshot on SIGUSR1) over the Redis channel layer, as
idle_bench.py runs it. N sockets are opened and held, a snapshot is taken, N more are opened and held, a second
snapshot is taken; the difference divided by N is one idle socket's share, by the line that allocated it, by the
component (Twisted, Autobahn, Daphne, Channels, channels-redis, redis-py, asyncio, Django, the site), and as
counts of live objects by type. tracemalloc's own bookkeeping inflates RSS here, so the RSS figure of this run is
not the idle figure (idle_bench.py measures that). Any socket that fails to open stops the run: its half-built state would
be counted.

Run: .venv/bin/python bench/idle_profile.py [--connections 1000] [--redis-url redis://127.0.0.1:6379/0]
Writes bench/idle_profile_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import idle_bench
from harness import daphne_process, machine_line, raise_fd_limit, rollup_kib, session_cookie

ROOT = Path(__file__).resolve().parent.parent
SITE = ("accounts/", "config/", "playground/", "dashboards/", "bench/")
# The component a block belongs to, by the path of the innermost Python frame that allocated it (first match wins).
COMPONENTS = [
    ("site-packages/autobahn/", "Autobahn (WebSocket protocol)"),
    ("site-packages/twisted/", "Twisted (transport, reactor)"),
    ("site-packages/daphne/", "Daphne (server, ASGI queue)"),
    ("site-packages/channels_redis/", "channels-redis (receive state)"),
    ("site-packages/channels/", "Channels (consumer, middleware)"),
    ("site-packages/redis/", "redis-py"),
    ("site-packages/django/", "Django (session, user, ORM)"),
    ("site-packages/asgiref/", "asgiref (sync_to_async)"),
    ("/asyncio/", "asyncio (tasks, futures, queues)"),
]
HOLD_SECONDS = 5.0


def component(filename: str) -> str:
    for marker, name in COMPONENTS:
        if marker in filename:
            return name
    relative = os.path.relpath(filename, ROOT)
    if relative.startswith(SITE):
        return f"the site ({relative.split('/')[0]}/)"
    return "other (stdlib, C extensions)"


def short(filename: str) -> str:
    """A frame's file relative to site-packages or the project."""
    for anchor in ("site-packages/", "python3.11/"):
        if anchor in filename:
            return filename.split(anchor, 1)[1]
    return os.path.relpath(filename, ROOT)


def site_frame(traceback: tracemalloc.Traceback) -> str:
    """The innermost frame in the site's own code, which says which of our calls led to the block."""
    for frame in reversed(traceback):
        if os.path.relpath(frame.filename, ROOT).startswith(SITE[:-1]):
            return f"{short(frame.filename)}:{frame.lineno}"
    return "(no site frame)"


async def snapshot(pid: int, folder: Path, number: int) -> tuple[tracemalloc.Snapshot, dict[str, int], int]:
    os.kill(pid, signal.SIGUSR1)
    done = folder / f"done-{number}"
    deadline = time.monotonic() + 300
    while not done.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the traced Daphne wrote no snapshot")
        await asyncio.sleep(0.2)
    snap = tracemalloc.Snapshot.load(str(folder / f"snapshot-{number}.pickle"))
    counts = json.loads((folder / f"objects-{number}.json").read_text())
    return snap, counts, rollup_kib(pid, "Rss")


async def open_held(job: dict) -> tuple[asyncio.subprocess.Process, int]:
    """A client process (idle_bench's) opening job["count"] sockets and holding them until its stdin closes."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, idle_bench.SCRIPT, "--client", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    opened = await idle_bench.ask(proc, json.dumps(job), job["seconds"] + 30)
    if opened["problems"]:
        raise SystemExit(f"some sockets did not open: {opened['problems']}")
    return proc, opened["opened"]


async def profile(job: dict, pid: int, folder: Path) -> dict:
    warm, _, _ = await idle_bench.open_sockets({**job, "count": idle_bench.WARM_UP})
    await asyncio.gather(*(socket.close() for socket in warm))
    procs = []
    try:
        first, opened_first = await open_held(job)
        procs.append(first)
        await asyncio.sleep(HOLD_SECONDS)
        before = await snapshot(pid, folder, 1)
        second, opened_second = await open_held(job)
        procs.append(second)
        await asyncio.sleep(HOLD_SECONDS)
        after = await snapshot(pid, folder, 2)
    finally:
        for proc in procs:
            proc.kill()
            await proc.wait()
    return {"before": before, "after": after, "opened": (opened_first, opened_second)}


def breakdown(figures: dict, top: int) -> tuple[list[str], float]:
    (snap_a, counts_a, rss_a), (snap_b, counts_b, rss_b) = figures["before"], figures["after"]
    added = figures["opened"][1]
    if not added:
        raise SystemExit("no socket opened between the snapshots")
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    diffs = snap_b.filter_traces(ignore).compare_to(snap_a.filter_traces(ignore), "traceback")
    total = sum(d.size_diff for d in diffs)
    by_component: Counter[str] = Counter()
    by_line: Counter[str] = Counter()
    by_site: Counter[str] = Counter()
    blocks = sum(d.count_diff for d in diffs)
    for diff in diffs:
        innermost = diff.traceback[-1]
        by_component[component(innermost.filename)] += diff.size_diff
        by_line[f"{short(innermost.filename)}:{innermost.lineno}"] += diff.size_diff
        by_site[site_frame(diff.traceback)] += diff.size_diff

    def table(title: str, counter: Counter[str], limit: int) -> list[str]:
        rows = [f"### {title}", "", "| where | bytes per socket | share |", "| --- | ---: | ---: |"]
        for name, size in counter.most_common(limit):
            rows.append(f"| `{name}` | {size / added:,.0f} | {size / total:.0%} |")
        return [*rows, ""]

    objects = Counter({name: counts_b.get(name, 0) - counts_a.get(name, 0) for name in counts_b})
    object_rows = ["### Live objects added per socket (gc, by type)", "", "| type | per socket |", "| --- | ---: |"]
    object_rows += [f"| `{name}` | {count / added:.2f} |" for name, count in objects.most_common(top) if count > 0]
    summary = [
        f"- Sockets held: {figures['opened'][0]} at the first snapshot, {figures['opened'][1]} more at the second.",
        f"- Python heap added per socket (tracemalloc): **{total / added:,.0f} bytes** in {blocks / added:.0f} blocks.",
        f"- RSS added per socket in this traced run: {(rss_b - rss_a) * 1024 / added:,.0f} bytes "
        "(tracemalloc's own records of each block are part of it).",
        "",
    ]
    lines = summary + table("By component (innermost frame)", by_component, 20)
    lines += table("By the site's call that led to it (innermost frame in the site's code)", by_site, top)
    lines += table("By line (innermost frame)", by_line, top) + object_rows
    return lines, total / added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000, help="N: sockets added between the snapshots")
    parser.add_argument("--frames", type=int, default=12, help="frames tracemalloc keeps per block")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--in-flight", type=int, default=10, help="handshakes at once (tracing slows Daphne)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    if "127.0.0.1" not in args.redis_url and "localhost" not in args.redis_url:
        raise SystemExit("benchmarks only target loopback: give a redis://127.0.0.1 URL")
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="idle-profile-") as folder:
        env = {
            **idle_bench.server_env(args.redis_url),
            "TRACED_SERVE_DIR": folder,
            "TRACED_SERVE_FRAMES": str(args.frames),
            # Tracing slows the handshakes; a failed one would leave its garbage in the difference.
            "DAPHNE_WEBSOCKET_HANDSHAKE_SECONDS": "60",
        }
        server = (str(Path(__file__).with_name("traced_serve.py")),)
        with daphne_process(env, preexec_fn=raise_fd_limit, server=server) as (url, server_env, proc):
            job = {
                "url": url.replace("http://", "ws://") + "/ws/playground/",
                "origin": url,
                "cookie": session_cookie(server_env, "bench-idle"),
                "count": args.connections,
                "in_flight": args.in_flight,
                "seconds": 600.0,
                "open_timeout": 60,
            }
            figures = asyncio.run(profile(job, proc.pid, Path(folder)))
    lines, per_socket = breakdown(figures, args.top)
    load = os.getloadavg()
    head = [
        "# Where an idle WebSocket's memory goes",
        "",
        f"- Measured: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine_line()}, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        f"- Command: `python bench/idle_profile.py --connections {args.connections} --frames {args.frames}`",
        "",
    ]
    text = "\n".join(head + lines) + "\n"
    path = Path(os.environ.get("IDLE_PROFILE_OUT", Path(__file__).with_name("idle_profile_RESULTS.md")))
    path.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
