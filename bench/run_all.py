"""`make bench`: every benchmark in turn, then bench/RESULTS.md with each figure beside its goal.

Each benchmark also keeps its own *_RESULTS.md with notes on method; RESULTS.md gathers their
tables, the command and time of each, and names the figures the project asks for that no
benchmark measures yet. Every load generator here targets loopback only and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from harness import machine_line  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/academy")

# (title, script and arguments, the results file it writes). Every benchmark but those over Redis measures the
# embedded defaults (SQLite, in-memory layer) its notes describe, so REDIS_URL and DATABASE_URL are not passed on;
# the Redis ones get the URL as --redis-url, the PostgreSQL ones the server as --database-url (each makes its own database).
BENCHMARKS = [
    ("Where a request's time goes", ["request_profile.py", "--requests", "40"], "request_profile_RESULTS.md"),
    ("Pages against Django's floor", ["lessons_bench.py", "--seconds", "6", "--rounds", "3"], "lessons_RESULTS.md"),
    (
        "Quiz attempts",
        ["quiz_bench.py", "--learners", "50", "--rounds", "3", "--database-url", DATABASE_URL],
        "quiz_RESULTS.md",
    ),
    (
        "Quiz attempts, a class in one cohort",
        ["quiz_bench.py", "--learners", "50", "--rounds", "3", "--cohort", "--database-url", DATABASE_URL],
        "quiz_cohort_RESULTS.md",
    ),
    ("Sandbox", ["sandbox_bench.py", "--runs", "40", "--write", "bench/sandbox_RESULTS.md"], "sandbox_RESULTS.md"),
    ("100 concurrent sandboxes", ["sandboxes_bench.py", "--sandboxes", "100"], "sandboxes_RESULTS.md"),
    ("Step-through visualizer", ["visualizer_bench.py"], "visualizer_RESULTS.md"),
    (
        "Challenge grading",
        ["challenge_bench.py", "--rounds", "20", "--write", "bench/challenge_RESULTS.md"],
        "challenge_RESULTS.md",
    ),
    ("Instructor dashboard", ["dashboard_bench.py", "--learners", "200", "--samples", "200"], "dashboard_RESULTS.md"),
    (
        "How HTTP is served: sync, async, one or two processes",
        ["serving_bench.py", "--seconds", "5", "--rounds", "2"],
        "serving_RESULTS.md",
    ),
    (
        "Capacity, quick search (make run and prod-local)",
        ["capacity_bench.py", "--database-url", DATABASE_URL],
        "capacity_quick_RESULTS.md",
    ),
    ("Group fan-out over Redis", ["fanout_bench.py", "--redis-url", REDIS_URL], "fanout_RESULTS.md"),
    ("Database connections on PostgreSQL", ["db_pool_bench.py", "--database-url", DATABASE_URL], "db_pool_RESULTS.md"),
    (
        "Readiness with 200 playground sockets over Redis",
        [
            "health_bench.py",
            "--sockets",
            "200",
            "--probes",
            "100",
            "--redis-url",
            REDIS_URL,
            "--database-url",
            DATABASE_URL,
        ],
        "health_RESULTS.md",
    ),
    (
        "A run's process dies: its live clients are told",
        ["live_close_bench.py", "--rounds", "5", "--redis-url", REDIS_URL],
        "live_close_RESULTS.md",
    ),
    (
        "Idle WebSocket connections over Redis",
        ["idle_bench.py", "--connections", "10000", "--redis-url", REDIS_URL],
        "idle_RESULTS.md",
    ),
]

# Benchmarks too long for `make bench`, run by hand on a quiet machine; RESULTS.md shows their last figures.
BY_HAND = [
    (
        "Capacity, full search (the capacity figure)",
        ["capacity_bench.py", "--full", "--database-url", DATABASE_URL],
        "capacity_RESULTS.md",
    ),
]

# Figures the project asks for that no benchmark above measures; RESULTS.md lists them while there are any.
NOT_MEASURED_YET: list[str] = []


def tables(markdown: str) -> list[str]:
    """The Markdown table lines of a results file (the figures; the notes stay in the file)."""
    return [line for line in markdown.splitlines() if line.startswith("|")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="SCRIPT",
        help="run only these benchmarks (e.g. lessons_bench.py); the others' figures are taken from their results files",
    )
    only = set(parser.parse_args().only or [])
    started = time.monotonic()
    sections, failures = [], []
    for title, args, results in BENCHMARKS:
        command = ["python", "bench/" + args[0], *args[1:]]
        if only and args[0] not in only:
            section = [
                f"## {title}",
                "",
                f"`{' '.join(command)}` (not run this time); details in `bench/{results}`.",
                "",
            ]
            section += [*tables((BENCH / results).read_text()), ""]
            sections.append("\n".join(section))
            continue
        print(f"== {title}: {' '.join(command)}", flush=True)
        began = time.monotonic()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        result = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]], cwd=ROOT, env=env, check=False)
        seconds = time.monotonic() - began
        section = [f"## {title}", "", f"`{' '.join(command)}` ({seconds:.0f} s); details in `bench/{results}`.", ""]
        if result.returncode:
            failures.append(title)
            section += [f"**The benchmark failed (exit code {result.returncode}); no figures this run.**", ""]
        else:
            section += [*tables((BENCH / results).read_text()), ""]
        sections.append("\n".join(section))
    for title, args, results in BY_HAND:
        if (BENCH / results).exists():
            command = " ".join(["python", "bench/" + args[0], *args[1:]])
            section = [
                f"## {title}",
                "",
                f"`{command}` (run by hand, not by make bench); details in `bench/{results}`.",
            ]
            sections.append("\n".join([*section, "", *tables((BENCH / results).read_text()), ""]))
    total = time.monotonic() - started
    head = [
        "# Benchmark results",
        "",
        f"- Measured: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine_line()}",
        f"- Command: `make bench` (bench/run_all.py{' --only ' + ' '.join(sorted(only)) if only else ''}), "
        f"{total / 60:.1f} minutes in all; each results file below gives the date and load of its own figures",
        "- Every figure stands beside its goal; a missed goal is reported as missed.",
        "",
    ]
    missing = ["## Not measured yet", "", *[f"- {item}" for item in NOT_MEASURED_YET], ""] if NOT_MEASURED_YET else []
    (BENCH / "RESULTS.md").write_text("\n".join(head) + "\n" + "\n".join(sections) + "\n" + "\n".join(missing))
    print(f"bench/RESULTS.md written ({total / 60:.1f} minutes)")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
