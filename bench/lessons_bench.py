"""Page request rates against Django's own floor (issue #14): each page beside a view rendering base.html with no
database access, served by the same Daphne process in the same run.

Run: .venv/bin/python bench/lessons_bench.py [--seconds 10] [--rounds 3]
Writes bench/lessons_RESULTS.md. The floor view belongs to the benchmarks' own settings (bench/baseline_site.py).
"""

from __future__ import annotations

import argparse
import os
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

from harness import check_ok, daphne_server, median_of, session_cookie, settle, write_results, wrk

TOPIC = "/lessons/consumer-lifecycle/concept/"
FLOOR = "/bench/base/"
CONNECTIONS = 32
RATIO_GOAL = 0.8
P99_GOAL_MS = 50
# (figure, path, who): signed-in pages are set beside the signed-in floor, whose session and user lookups are part of
# being signed in, not of any page. An anonymous request without a cookie is a first visit: the page starts a session to
# keep the visitor's progress (a session INSERT each time); a returning visitor sends the cookie it got.
ANONYMOUS, RETURNING, SIGNED_IN = "anonymous", "returning", "signed in"
PAGES = (
    ("floor: base.html, no database, anonymous", FLOOR, ANONYMOUS),
    ("floor: base.html, no view query, signed in", FLOOR, SIGNED_IN),
    ("topic page, anonymous", TOPIC, ANONYMOUS),
    ("topic page, anonymous visitor returning with its session cookie", TOPIC, RETURNING),
    ("topic page, signed in", TOPIC, SIGNED_IN),
    ("lesson outline, signed in", "/lessons/", SIGNED_IN),
    ("quiz start page, signed in", "/quizzes/consumer-lifecycle/", SIGNED_IN),
)


def visitor_cookie(url: str) -> str:
    """The session cookie a first visit to the topic page hands an anonymous visitor."""
    with urllib.request.urlopen(url + TOPIC, timeout=30) as response:
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie"):
            cookies.load(header)
    return f"sessionid={cookies['sessionid'].value}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every page, interleaved; medians reported")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {}
    with daphne_server({"DJANGO_SETTINGS_MODULE": "bench.baseline_site"}) as (url, env):
        cookies = {
            SIGNED_IN: {"Cookie": session_cookie(env, "bench-reader")},
            RETURNING: {"Cookie": visitor_cookie(url)},
        }
        for _ in range(args.rounds):
            for name, path, who in PAGES:
                headers = cookies.get(who)
                check_ok(url + path, headers)
                wrk(url + path, connections=CONNECTIONS, seconds=2, headers=headers)  # warm-up
                settle()
                run = wrk(url + path, connections=CONNECTIONS, seconds=args.seconds, headers=headers)
                runs.setdefault(name, []).append(run)
                print(f"{name}: {run}", flush=True)
    results = {name: median_of(page_runs) for name, page_runs in runs.items()}
    floors = {ANONYMOUS: results[PAGES[0][0]]["rps"], SIGNED_IN: results[PAGES[1][0]]["rps"]}
    floors[RETURNING] = floors[ANONYMOUS]
    rows = []
    for name, _, who in PAGES:
        r = results[name]
        is_floor = name.startswith("floor")
        ratio = r["rps"] / floors[who]
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
        f"figure after a 2 s warm-up; {args.rounds} rounds over every page, interleaved, each figure the median of its "
        "rounds (so a passing burst of load elsewhere on the machine falls on one round, not on one page). The floor is `/bench/base/` of bench/baseline_urls.py, served by the same process; "
        "anonymous pages (a first visit without a cookie, and a returning visitor with its session cookie) are set "
        "beside the anonymous floor, signed-in pages beside the signed-in one. "
        f"Load average when it started: {load:.1f} on {os.cpu_count()} cores. "
        "Where the CPU time of one request goes: bench/request_profile_RESULTS.md."
    )
    write_results(
        Path(__file__).with_name("lessons_RESULTS.md"),
        "Page speed against Django's floor",
        f"python bench/lessons_bench.py --seconds {args.seconds} --rounds {args.rounds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
