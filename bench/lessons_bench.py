"""Topic page throughput and latency (anonymous and signed-in) against a static file, under Daphne.

Run: .venv/bin/python bench/lessons_bench.py [--seconds 10]
Writes bench/lessons_RESULTS.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import check_ok, daphne_server, session_cookie, settle, write_results, wrk

PAGE = "/lessons/consumer-lifecycle/concept/"
STATIC = "/static/css/site.css"
CONNECTIONS = 32


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with daphne_server() as (url, env):
        cookie = session_cookie(env, "bench-reader")
        check_ok(url + PAGE)
        check_ok(url + PAGE, {"Cookie": cookie})
        results = {}
        for name, path, headers in (
            ("static", STATIC, None),
            ("anonymous", PAGE, None),
            ("signed-in", PAGE, {"Cookie": cookie}),
        ):
            wrk(url + path, connections=CONNECTIONS, seconds=2, headers=headers)  # warm-up
            settle()
            results[name] = wrk(url + path, connections=CONNECTIONS, seconds=args.seconds, headers=headers)
    static = results["static"]["rps"]
    rows = [("static file req/s", f"{static:.0f}", "baseline", "")]
    for name, ratio_goal in (("anonymous", 0.8), ("signed-in", 0.6)):
        r = results[name]
        ratio = r["rps"] / static
        rows += [
            (
                f"{name} topic page req/s",
                f"{r['rps']:.0f} ({ratio:.2f} × static)",
                f"≥ {ratio_goal} × static",
                "met" if ratio >= ratio_goal else "missed",
            ),
            (
                f"{name} p50 / p99 latency",
                f"{r['p50']:.1f} ms / {r['p99']:.1f} ms",
                "p99 ≤ 50 ms",
                "met" if r["p99"] <= 50 else "missed",
            ),
            (f"{name} non-2xx responses", str(r["non2xx"]), "0", "met" if r["non2xx"] == 0 else "missed"),
        ]
    rows.append(
        (
            "static p50 / p99 latency",
            f"{static and results['static']['p50']:.1f} ms / {results['static']['p99']:.1f} ms",
            "",
            "",
        )
    )
    notes = (
        f"One Daphne process, SQLite (the embedded default), DEBUG off, {CONNECTIONS} concurrent keep-alive "
        f"connections from wrk (2 threads) on the same 2-core machine, {args.seconds} s per figure after a 2 s warm-up. "
        "The signed-in page also records the visit (one UPDATE per request)."
    )
    write_results(
        Path(__file__).with_name("lessons_RESULTS.md"),
        "Lesson page speed",
        f"python bench/lessons_bench.py --seconds {args.seconds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
