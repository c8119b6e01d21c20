"""How HTTP is served (issue #14): sync views on a few threads per process (how many), async views with the async ORM,
or several Daphne processes, measured on the same machine in the same run with wrk at 32 connections.

Run: .venv/bin/python bench/serving_bench.py [--seconds 8] [--rounds 3]
Writes bench/serving_RESULTS.md. The async views belong to the benchmarks' own settings (bench/async_views.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness import (
    ROOT,
    check_ok,
    child_pids,
    cpu_seconds,
    daphne_args,
    manage,
    median_of,
    session_cookie,
    settle,
    site_process,
    stop_process,
    write_results,
    wrk,
)

from tests.conftest import free_port, production_env, wait_for_http

CONNECTIONS = 32
TOPIC = "consumer-lifecycle"
# (figure, path, signed in)
PAGES = (
    ("floor, sync view, anonymous", "/bench/base/", False),
    ("floor, async view, anonymous", "/bench/async/base/", False),
    ("topic page, sync view, signed in", f"/lessons/{TOPIC}/concept/", True),
    ("topic page, async view (async ORM), signed in", f"/bench/async/lessons/{TOPIC}/concept/", True),
)
# How many sync threads a process lends requests (HTTP_SYNC_THREADS, config/asgi_handler.py): each count served by a
# Daphne of its own, directly, for the sync pages.
THREAD_COUNTS = (1, 2, 4, 8)
SYNC_PAGES = tuple(page for page in PAGES if ", sync view," in page[0])
# (figure, Daphne processes, behind nginx)
LAYOUTS = (
    ("1 Daphne, direct", 1, False),
    ("1 Daphne behind nginx", 1, True),
    ("2 Daphne behind nginx", 2, True),
)


@contextmanager
def daphnes(env: dict[str, str], count: int, log_dir: Path) -> Iterator[list[tuple[str, int]]]:
    """`count` Daphne processes of the same settings and data folder; yields their addresses and pids."""
    with ExitStack() as stack:
        addresses = []
        for _ in range(count):
            port = free_port()
            proc = site_process(env, log_dir / f"daphne-{port}.log", *daphne_args(port))
            stack.callback(stop_process, proc)
            wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
            addresses.append((f"127.0.0.1:{port}", proc.pid))
        yield addresses


@contextmanager
def nginx(upstreams: list[str], static_root: Path, work: Path) -> Iterator[tuple[str, list[int]]]:
    """nginx with the deploy/ site configuration (as scripts/prod-local.sh renders it) in front of `upstreams`."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx is missing: apt-get install nginx-light")
    port = free_port()
    site = subprocess.run(
        ["bash", "deploy/render-nginx.sh", f"listen 127.0.0.1:{port};", "localhost", str(static_root), *upstreams],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    prefix = work / f"nginx-{port}"
    prefix.mkdir()
    temps = "".join(
        f"  {name}_temp_path {prefix}/{name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n{temps}{site}}}\n"
    )
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.Popen(
        [binary, "-c", str(prefix / "nginx.conf"), "-p", str(prefix), "-g", f"daemon off; user {user};"]
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/livez", proc)
        yield f"http://127.0.0.1:{port}", [proc.pid, *child_pids(proc.pid)]
    finally:
        stop_process(proc)


def measure(url: str, pids: list[int], path: str, headers: dict[str, str] | None, seconds: int) -> dict[str, float]:
    """One page at one address: a 2 s warm-up, then the measured run, with the serving processes' CPU per request
    (which load from elsewhere on the machine changes far less than the rate) and the load average after it."""
    check_ok(url + path, headers)
    wrk(url + path, connections=CONNECTIONS, seconds=2, headers=headers)
    settle()
    cpu = cpu_seconds(pids)
    figures = wrk(url + path, connections=CONNECTIONS, seconds=seconds, headers=headers)
    cpu_ms = (cpu_seconds(pids) - cpu) * 1000 / max(1, figures["rps"] * seconds)
    return {**figures, "cpu_ms": cpu_ms, "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="rounds over every figure, interleaved; medians reported")
    args = parser.parse_args()
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="academy-serving-") as work, ExitStack() as stack:
        env = production_env(Path(work), DJANGO_SETTINGS_MODULE="bench.baseline_site")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        cookie = {"Cookie": session_cookie(env, "bench-reader")}
        # The proxy's address is trusted for X-Forwarded-For, as prod-local's DJANGO_BEHIND_PROXY does.
        env["DJANGO_BEHIND_PROXY"] = "1"
        # Every layout up at once (an idle process costs nothing), so the rounds can interleave them: load from
        # elsewhere on the machine then falls on every figure alike instead of on whichever ran at the time.
        servers = stack.enter_context(daphnes(env, 2, Path(work)))
        targets = {}
        for name, processes, proxied in LAYOUTS:
            upstreams = [address for address, _ in servers[:processes]]
            pids = [pid for _, pid in servers[:processes]]
            if proxied:
                url, proxy_pids = stack.enter_context(nginx(upstreams, Path(work) / "static", Path(work)))
                targets[name] = (url, pids + proxy_pids)
            else:
                targets[name] = (f"http://{upstreams[0]}", pids)
        pages = {name: PAGES for name, _, _ in LAYOUTS}
        for count in THREAD_COUNTS:
            name = f"1 Daphne, direct, {count} sync thread{'s' if count > 1 else ''}"
            [(address, pid)] = stack.enter_context(daphnes({**env, "HTTP_SYNC_THREADS": str(count)}, 1, Path(work)))
            targets[name] = (f"http://{address}", [pid])
            pages[name] = SYNC_PAGES
        for _ in range(args.rounds):
            for name, layout_pages in pages.items():
                for page, path, signed in layout_pages:
                    figures = measure(*targets[name], path, cookie if signed else None, args.seconds)
                    runs.setdefault((name, page), []).append(figures)
                    print(f"{name}: {page}: {figures}", flush=True)
    results = {key: median_of(value) for key, value in runs.items()}
    rows = []
    floor = results[(LAYOUTS[0][0], PAGES[0][0])]["rps"]
    for (layout, page), r in results.items():
        rows.append(
            (
                f"{layout}: {page}",
                f"{r['rps']:.0f} req/s ({r['rps'] / floor:.2f} × the sync floor direct), p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, server CPU {r['cpu_ms']:.1f} ms a request"
                + (f", {r['non2xx']} non-2xx" if r["non2xx"] else "")
                + f"; load {r['load']:.1f}",
                "the decision's evidence (no goal of its own)",
                "" if not r["non2xx"] else "errors",
            )
        )
    notes = (
        f"Same machine, same run, SQLite and the in-memory channel layer, DEBUG off, settings bench.baseline_site. wrk "
        f"with {CONNECTIONS} keep-alive connections (2 threads) on the same 2-core machine, {args.seconds} s per figure "
        f"after a 2 s warm-up; {args.rounds} round(s) over every figure, interleaved, each figure the median of its "
        "rounds (load average: the median after each run). Sync views run on the process's sync threads "
        "(HTTP_SYNC_THREADS, the site's default in the layouts without a count) through the site's one-hop handler "
        "(config/asgi_handler.py); the async views (bench/async_views.py) take Django's async middleware chain and "
        "look up the session, user, progress and role with the async ORM (each query is Django's sync_to_async into "
        "the request's own thread and back). nginx uses deploy/nginx-site.conf.in as scripts/prod-local.sh renders it (upstream "
        "keep-alive 32). Server CPU per request is the Daphne processes' (and nginx's, behind it) user and system CPU over "
        "the measured run divided by the requests wrk completed. Load average after each figure is beside it: the machine was shared unless it says about 2 or less."
    )
    write_results(
        Path(__file__).with_name("serving_RESULTS.md"),
        "How HTTP is served: sync, async, one or two processes",
        f"python bench/serving_bench.py --seconds {args.seconds} --rounds {args.rounds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
