"""Answer submission latency with many concurrent learners under Daphne, and a check that no answer is lost.

Run: .venv/bin/python bench/quiz_bench.py [--learners 50 --rounds 3]
Writes bench/quiz_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path

from harness import (
    answer_question,
    csrf_connection,
    daphne_server,
    make_sessions,
    manage,
    percentile,
    start_attempt,
    write_results,
)

TOPIC = "consumer-lifecycle"


async def learner(url: str, session: str, rounds: int, latencies: list[float], submitted: dict) -> None:
    conn, headers = csrf_connection(url, session)
    attempt_id, choices = await start_attempt(conn, TOPIC, headers)
    last: dict[str, str] = {}
    for _ in range(rounds):
        for qid, keys in choices.items():
            key = random.choice(keys)
            started = time.perf_counter()
            status = await answer_question(conn, attempt_id, qid, key, headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"answer returned {status}")
            last[qid] = key
    submitted[attempt_id] = last
    await conn.close()


async def run(url: str, sessions: list[str], rounds: int) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    submitted: dict = {}
    started = time.perf_counter()
    await asyncio.gather(*(learner(url, session, rounds, latencies, submitted) for session in sessions))
    return latencies, submitted, time.perf_counter() - started


def stored_answers(env: dict[str, str]) -> dict[int, dict[str, list[str]]]:
    code = (
        "import json; from quizzes.models import Answer; out = {}\n"
        "for a in Answer.objects.all(): out.setdefault(a.attempt_id, {})[a.question_id] = a.chosen\n"
        "print(json.dumps(out))"
    )
    return {int(k): v for k, v in json.loads(manage(env, "shell", "--no-imports", "-c", code)).items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with daphne_server() as (url, env):
        sessions = make_sessions(env, args.learners)
        latencies, submitted, elapsed = asyncio.run(run(url, sessions, args.rounds))
        stored = stored_answers(env)
    lost = sum(
        1
        for attempt, answers in submitted.items()
        for qid, key in answers.items()
        if stored.get(attempt, {}).get(qid) != [key]
    )
    total_answers = sum(len(a) for a in submitted.values())
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    rows = [
        ("answers submitted", f"{len(latencies)} ({len(latencies) / elapsed:.0f}/s)", "", ""),
        (
            "answer p50 / p99",
            f"{p50:.1f} ms / {p99:.1f} ms (mean {statistics.mean(latencies):.1f} ms)",
            "p99 ≤ 50 ms",
            "met" if p99 <= 50 else "missed",
        ),
        ("final answers lost or wrong", f"{lost} of {total_answers}", "0", "met" if lost == 0 else "missed"),
    ]
    notes = (
        f"{args.learners} signed-in learners at once, each starting a test-mode attempt and answering every question "
        f"{args.rounds} times over htmx (test mode lets answers change), on one Daphne process with SQLite (the embedded "
        "default), DEBUG off, client and server on the same 2-core machine. 'Lost' compares each learner's last "
        "submitted choice with the stored row."
    )
    write_results(
        Path(__file__).with_name("quiz_RESULTS.md"),
        "Quiz answer submission",
        f"python bench/quiz_bench.py --learners {args.learners} --rounds {args.rounds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
