"""Quiz answer latency as issue #14 states the goal: 50 learners answering every 1-3 s, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/quiz_bench.py [--learners 50 --rounds 3 --database-url postgres://postgres@127.0.0.1/x]
Writes bench/quiz_RESULTS.md. Each learner waits 1-3 s (uniformly at random) before each answer, as a learner reading
the question would, so the figure is the latency at that arrival rate, not at saturation; --think 0 measures the
saturated server. Afterwards every learner's last choice must be the stored one, once (none lost, none graded twice).
PostgreSQL is measured twice, with a connection per request and with psycopg's pool. --cohort puts the learners in one
cohort, as a class is, so every answer is also recorded in its feed and sent to its group (quiz_cohort_RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from pathlib import Path

import psycopg
from harness import (
    answer_question,
    cpu_seconds,
    csrf_connection,
    daphne_process,
    make_sessions,
    manage,
    percentile,
    server_log,
    start_attempt,
    write_results,
)

TOPIC = "consumer-lifecycle"


async def learner(
    url: str, session: str, rounds: int, think: tuple[float, float], latencies: list[float], submitted: dict
) -> None:
    conn, headers = csrf_connection(url, session)
    await asyncio.sleep(random.uniform(0, think[1]))  # learners do not all arrive in the same instant
    attempt_id, choices = await start_attempt(conn, TOPIC, headers)
    last: dict[str, str] = {}
    for _ in range(rounds):
        for qid, keys in choices.items():
            await asyncio.sleep(random.uniform(*think))
            key = random.choice(keys)
            started = time.perf_counter()
            status = await answer_question(conn, attempt_id, qid, key, headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"answer returned {status}")
            last[qid] = key
    submitted[attempt_id] = last
    await conn.close()


async def run(
    url: str, sessions: list[str], rounds: int, think: tuple[float, float]
) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    submitted: dict = {}
    started = time.perf_counter()
    await asyncio.gather(*(learner(url, session, rounds, think, latencies, submitted) for session in sessions))
    return latencies, submitted, time.perf_counter() - started


def stored_answers(env: dict[str, str]) -> dict[int, dict[str, list[list[str]]]]:
    """Every stored answer row, per attempt and question (a question answered twice would have two rows)."""
    code = (
        "import json; from quizzes.models import Answer; out = {}\n"
        "for a in Answer.objects.all(): out.setdefault(a.attempt_id, {}).setdefault(a.question_id, []).append(a.chosen)\n"
        "print(json.dumps(out))"
    )
    return {int(k): v for k, v in json.loads(manage(env, "shell", "--no-imports", "-c", code)).items()}


def enrol_in_one_cohort(env: dict[str, str]) -> None:
    """Every learner in one cohort with an instructor, as a class is: each answer is then announced to its dashboards."""
    code = (
        "from django.contrib.auth import get_user_model; from cohorts.models import Cohort, Membership\n"
        "users = get_user_model().objects; teacher = users.create_user('bench-instructor')\n"
        "cohort = Cohort.objects.create(name='bench class', created_by=teacher)\n"
        "Membership.objects.create(cohort=cohort, user=teacher, role=Membership.Role.INSTRUCTOR)\n"
        "Membership.objects.bulk_create(Membership(cohort=cohort, user=u, role=Membership.Role.LEARNER)"
        " for u in users.filter(username__startswith='bench').exclude(pk=teacher.pk))"
    )
    manage(env, "shell", "--no-imports", "-c", code)


def measure(args: argparse.Namespace, think: tuple[float, float], extra_env: dict[str, str]) -> dict:
    with daphne_process(extra_env) as (url, env, server):
        sessions = make_sessions(env, args.learners)
        if args.cohort:
            enrol_in_one_cohort(env)
        cpu_before = cpu_seconds([server.pid])
        try:
            latencies, submitted, elapsed = asyncio.run(run(url, sessions, args.rounds, think))
        except RuntimeError as error:  # a request that failed: the server's log says why
            raise RuntimeError(f"{error}; the end of Daphne's log:\n{server_log(env)[-4000:]}") from error
        server_cpu = cpu_seconds([server.pid]) - cpu_before
        stored = stored_answers(env)
    wrong = sum(
        1
        for attempt, answers in submitted.items()
        for qid, key in answers.items()
        if stored.get(attempt, {}).get(qid) != [[key]]
    )
    return {
        "latencies": latencies,
        "rate": len(latencies) / elapsed,
        "cpu_ms": 1000 * server_cpu / len(latencies),
        "wrong": wrong,
        "total": sum(len(a) for a in submitted.values()),
    }


POSTGRES_CONNECTIONS = (  # Django's two choices under ASGI: no connection kept, or the backend's own pool
    ("a connection per request", 0),
    ("psycopg pool (the default)", 10),
)


def measure_postgres(args: argparse.Namespace, think: tuple[float, float], pool_size: int) -> dict:
    """One run on a fresh PostgreSQL database of its own, with DATABASE_POOL_MAX_SIZE as given (0: no pool)."""
    server = args.database_url.rsplit("/", 1)[0]
    name = f"bench_quiz_{os.getpid()}_{pool_size}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return measure(args, think, {"DATABASE_URL": f"{server}/{name}", "DATABASE_POOL_MAX_SIZE": str(pool_size)})
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connection_setup(server: str, connections: int = 200) -> dict[str, float]:
    """What a request without the pool pays before its first query: wall ms, and the CPU ms of client and PostgreSQL.

    PostgreSQL's share is the CPU of the backends it forked, one per connection, which its postmaster collects as
    they exit; read from /proc, so only for a server on this machine (other clients of it meanwhile add theirs).
    """
    with psycopg.connect(f"{server}/postgres") as probe:
        data_directory = probe.execute("SHOW data_directory").fetchone()[0]  # type: ignore[index]
    postmaster = int(Path(data_directory, "postmaster.pid").read_text().split()[0])

    def backends_cpu() -> float:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    server_before, client_before, started = backends_cpu(), time.process_time(), time.perf_counter()
    for _ in range(connections):
        with psycopg.connect(f"{server}/postgres") as connection:
            connection.execute("SELECT 1").fetchone()
    wall = time.perf_counter() - started
    client = time.process_time() - client_before
    time.sleep(0.5)  # the last backends exit and are collected
    return {
        "wall_ms": 1000 * wall / connections,
        "client_ms": 1000 * client / connections,
        "server_ms": 1000 * (backends_cpu() - server_before) / connections,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--cohort", action="store_true", help="the learners form one cohort, as a class does")
    args = parser.parse_args()
    think = (args.think[0], args.think[1])
    load = os.getloadavg()[0]
    results = {"SQLite": measure(args, think, {})}
    setup = None
    if args.database_url:
        for label, pool_size in POSTGRES_CONNECTIONS:
            results[f"PostgreSQL, {label}"] = measure_postgres(args, think, pool_size)
        setup = connection_setup(args.database_url.rsplit("/", 1)[0])
    rows = []
    for database, r in results.items():
        latencies = r["latencies"]
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        rows += [
            (f"{database}: answers submitted", f"{len(latencies)} ({r['rate']:.0f}/s)", "", ""),
            (f"{database}: Daphne CPU per answer", f"{r['cpu_ms']:.1f} ms", "", ""),
            (
                f"{database}: answer p50 / p99",
                f"{p50:.1f} ms / {p99:.1f} ms (mean {statistics.mean(latencies):.1f} ms)",
                "p99 ≤ 50 ms",
                "met" if p99 <= 50 else "missed",
            ),
            (
                f"{database}: final answers lost, wrong or graded twice",
                f"{r['wrong']} of {r['total']}",
                "0",
                "met" if r["wrong"] == 0 else "missed",
            ),
        ]
    if setup:
        rows.append(
            (
                "PostgreSQL: one connection's set-up, which the pool saves each request (200 in a row)",
                f"{setup['wall_ms']:.1f} ms wall; CPU {setup['client_ms']:.1f} ms in the client, "
                f"{setup['server_ms']:.1f} ms in PostgreSQL",
                "",
                "",
            )
        )
    notes = (
        f"{args.learners} signed-in learners{' in one cohort (each answer recorded in its feed and sent to its group)' if args.cohort else ''}, each starting a test-mode attempt and answering every question "
        f"{args.rounds} times over htmx (test mode lets answers change), waiting {think[0]:g}-{think[1]:g} s before "
        "each answer; one Daphne process, DEBUG off, client and server on the same 2-core machine; SQLite is the "
        "embedded default, PostgreSQL a fresh database on the same machine, once with a new connection for every "
        "request and once with psycopg's pool (DATABASE_POOL_MAX_SIZE 10, the default). 'Lost, wrong or graded twice' compares "
        f"each learner's last choice with the stored rows. Daphne CPU per answer is the server process's CPU time over the "
        "run (the attempts' start pages included) divided by the answers: a figure other work on the machine does not "
        f"inflate. Load average when it started: {load:.1f}, when it ended: {os.getloadavg()[0]:.1f}, on "
        f"{os.cpu_count()} cores."
    )
    command = (
        f"python bench/quiz_bench.py --learners {args.learners} --rounds {args.rounds} --think {think[0]:g} {think[1]:g}"
        + (" --cohort" if args.cohort else "")
        + (" --database-url URL" if args.database_url else "")
    )
    results_file = "quiz_cohort_RESULTS.md" if args.cohort else "quiz_RESULTS.md"
    title = "Quiz answer submission, a class in one cohort" if args.cohort else "Quiz answer submission"
    write_results(Path(__file__).with_name(results_file), title, command, rows, notes)


if __name__ == "__main__":
    main()
