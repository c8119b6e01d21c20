"""Answer submission latency with many concurrent learners under Daphne, and a check that no answer is lost.

Run: .venv/bin/python bench/quiz_bench.py [--learners 50 --rounds 3]
Writes bench/quiz_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import statistics
import time
from pathlib import Path

from harness import daphne_server, manage, write_results
from httpclient import HttpConnection

TOPIC = "consumer-lifecycle"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def make_sessions(env: dict[str, str], count: int) -> list[str]:
    code = (
        "import json; from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "from django.contrib.sessions.backends.db import SessionStore; keys = []\n"
        f"for i in range({count}):\n"
        "    u = get_user_model().objects.create_user(f'bench{i}', password='bench-pass-12345')\n"
        "    s = SessionStore(); s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.save(); keys.append(s.session_key)\n"
        "print(json.dumps(keys))"
    )
    return json.loads(manage(env, "shell", "--no-imports", "-c", code))


async def learner(url: str, session: str, rounds: int, latencies: list[float], submitted: dict) -> None:
    csrf = secrets.token_hex(16)
    conn = HttpConnection(url, {"sessionid": session, "csrftoken": csrf})
    headers = {"X-CSRFToken": csrf}
    status, response_headers, _ = await conn.request("POST", f"/quizzes/{TOPIC}/", {"mode": "test"}, headers)
    assert status == 302, status
    attempt_path = response_headers["location"]
    attempt_id = int(re.search(r"/attempt/(\d+)/", attempt_path).group(1))
    _, _, page = await conn.request("GET", attempt_path)
    html = page.decode()
    questions = list(dict.fromkeys(re.findall(r'name="question" value="([^"]+)"', html)))
    choices = {qid: re.findall(rf'id="q{n}-([a-z])"', html) for n, qid in enumerate(questions, start=1)}
    last: dict[str, str] = {}
    for _ in range(rounds):
        for qid in questions:
            key = random.choice(choices[qid])
            started = time.perf_counter()
            status, _, _ = await conn.request(
                "POST",
                f"/quizzes/attempt/{attempt_id}/answer/",
                {"question": qid, "choice": key},
                {**headers, "HX-Request": "true"},
            )
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
