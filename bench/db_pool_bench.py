"""A signed-in topic page on PostgreSQL under Daphne: a new connection per request (CONN_MAX_AGE 0) against
psycopg's pool (DATABASE_POOL_MAX_SIZE), the two choices Django's ASGI advice leaves.

Run: .venv/bin/python bench/db_pool_bench.py --database-url postgres://postgres@127.0.0.1:5432/postgres [--seconds 8]
Writes bench/db_pool_RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import psycopg
from harness import check_ok, daphne_server, session_cookie, settle, write_results, wrk

PAGE = "/lessons/consumer-lifecycle/concept/"
CONNECTIONS = 32
POOL_SIZE = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    server = args.database_url.rsplit("/", 1)[0]
    name = f"bench_db_pool_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    results = {}
    load = os.getloadavg()[0]  # other work on the machine skews both figures alike; the notes say how much there was
    try:
        for label, extra in (
            ("no pool (a connection per request)", {"DATABASE_POOL_MAX_SIZE": "0"}),
            (f"pool of {POOL_SIZE}", {"DATABASE_POOL_MAX_SIZE": str(POOL_SIZE), "DATABASE_POOL_MIN_SIZE": "2"}),
        ):
            with daphne_server({"DATABASE_URL": f"{server}/{name}", **extra}) as (url, env):
                cookie = session_cookie(env, f"bench-reader-{len(results)}")
                check_ok(url + PAGE, {"Cookie": cookie})
                wrk(url + PAGE, connections=CONNECTIONS, seconds=2, headers={"Cookie": cookie})  # warm-up
                settle()
                results[label] = wrk(
                    url + PAGE, connections=CONNECTIONS, seconds=args.seconds, headers={"Cookie": cookie}
                )
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rows = []
    for label, r in results.items():
        rows += [
            (f"signed-in topic page req/s, {label}", f"{r['rps']:.0f}", "", ""),
            (f"p50 / p99 latency, {label}", f"{r['p50']:.1f} ms / {r['p99']:.1f} ms", "", ""),
            (f"non-2xx responses, {label}", str(r["non2xx"]), "0", "met" if r["non2xx"] == 0 else "missed"),
        ]
    write_results(
        Path(__file__).with_name("db_pool_RESULTS.md"),
        "Database connections: per request or pooled",
        f"python bench/db_pool_bench.py --seconds {args.seconds}",
        rows,
        f"One Daphne process, DEBUG off, {PAGE} signed in (session, user and the visit's UPDATE on PostgreSQL "
        f"on the same machine), {CONNECTIONS} concurrent keep-alive connections from wrk, {args.seconds} s per "
        f"figure after a 2 s warm-up. Load average when it started: {load:.1f} on {os.cpu_count()} cores. The "
        "pool is the default (DATABASE_POOL_MAX_SIZE 10); it also bounds the connections per process "
        "(tests/test_db_pool.py). bench/quiz_RESULTS.md compares the two on quiz answers, with Daphne's CPU per answer.",
    )


if __name__ == "__main__":
    main()
