"""Page request rates against Django's own floor (issue #14): each page beside a view rendering base.html with no
database access, served by the same Daphne process in the same run.

Run: .venv/bin/python bench/lessons_bench.py [--seconds 10]
Writes bench/lessons_RESULTS.md. The floor view belongs to the benchmarks' own settings (bench/baseline_site.py).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness import check_ok, daphne_server, session_cookie, settle, write_results, wrk

TOPIC = "/lessons/consumer-lifecycle/concept/"
FLOOR = "/bench/base/"
CONNECTIONS = 32
RATIO_GOAL = 0.8
P99_GOAL_MS = 50
# (figure, path, signed in): signed-in pages are set beside the signed-in floor, whose session and user lookups are
# part of being signed in, not of any page.
PAGES = (
    ("floor: base.html, no database, anonymous", FLOOR, False),
    ("floor: base.html, no view query, signed in", FLOOR, True),
    ("topic page, anonymous", TOPIC, False),
    ("topic page, signed in", TOPIC, True),
    ("lesson outline, signed in", "/lessons/", True),
    ("quiz start page, signed in", "/quizzes/consumer-lifecycle/", True),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = {}
    with daphne_server({"DJANGO_SETTINGS_MODULE": "bench.baseline_site"}) as (url, env):
        cookie = {"Cookie": session_cookie(env, "bench-reader")}
        for name, path, signed in PAGES:
            headers = cookie if signed else None
            check_ok(url + path, headers)
            wrk(url + path, connections=CONNECTIONS, seconds=2, headers=headers)  # warm-up
            settle()
            results[name] = wrk(url + path, connections=CONNECTIONS, seconds=args.seconds, headers=headers)
    floors = {False: results[PAGES[0][0]]["rps"], True: results[PAGES[1][0]]["rps"]}
    rows = []
    for name, _, signed in PAGES:
        r = results[name]
        is_floor = name.startswith("floor")
        ratio = r["rps"] / floors[signed]
        rows.append(
            (
                f"{name}: req/s",
                f"{r['rps']:.0f}" + ("" if is_floor else f" ({ratio:.2f} × floor)"),
                "floor" if is_floor else f"≥ {RATIO_GOAL} × floor",
                "" if is_floor else ("met" if ratio >= RATIO_GOAL else "missed"),
            )
        )
        rows.append(
            (
                f"{name}: p50 / p99",
                f"{r['p50']:.1f} ms / {r['p99']:.1f} ms",
                f"p99 ≤ {P99_GOAL_MS} ms",
                "met" if r["p99"] <= P99_GOAL_MS else "missed",
            )
        )
        if r["non2xx"]:
            rows.append((f"{name}: non-2xx responses", str(r["non2xx"]), "0", "missed"))
    notes = (
        f"One Daphne process (`python -m config.serve`), SQLite (the embedded default), DEBUG off, {CONNECTIONS} "
        f"concurrent keep-alive connections from wrk (2 threads) on the same 2-core machine, {args.seconds} s per "
        "figure after a 2 s warm-up. The floor is `/bench/base/` of bench/baseline_urls.py, served by the same process; "
        "anonymous pages are set beside the anonymous floor, signed-in pages beside the signed-in one. "
        f"Load average when it started: {load:.1f} on {os.cpu_count()} cores. "
        "Where the CPU time of one request goes: bench/request_profile_RESULTS.md."
    )
    write_results(
        Path(__file__).with_name("lessons_RESULTS.md"),
        "Page speed against Django's floor",
        f"python bench/lessons_bench.py --seconds {args.seconds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
