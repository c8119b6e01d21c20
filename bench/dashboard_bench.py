"""Instructor dashboard with 200 learners × 20 topics of generated activity: page time, and how fast a
learner's answer reaches the instructor's open dashboard socket.

Run: .venv/bin/python bench/dashboard_bench.py [--learners 200 --samples 200]
Writes bench/dashboard_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import time
from pathlib import Path

import websockets
from harness import daphne_server, manage, percentile, write_results
from httpclient import HttpConnection

SETUP = """
import json, random
from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.roles import make_instructor
from dashboards.demo import generate_activity
from cohorts.models import Membership
from dashboards.services import create_cohort
User = get_user_model()
def session(u):
    s = SessionStore(); s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
    s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.save(); return s.session_key
teacher = User.objects.create_user('bench-teacher', password='x-bench-pass-1'); make_instructor(teacher)
cohort = create_cohort(teacher, 'Bench cohort')
rng = random.Random(7)
learners = []
for i in range(LEARNERS):
    u = User.objects.create_user(f'bench-learner-{i}', password='x-bench-pass-1')
    Membership.objects.create(cohort=cohort, user=u, role='learner')
    generate_activity(u, rng.random(), rng, topic_count=20)
    learners.append(u)
print(json.dumps({'cohort': cohort.pk, 'teacher': session(teacher), 'learner': session(learners[0])}))
"""


async def page_times(url: str, cohort: int, teacher: str, count: int) -> list[float]:
    conn = HttpConnection(url, {"sessionid": teacher})
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status, _, body = await conn.request("GET", f"/dashboard/cohorts/{cohort}/")
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
    await conn.close()
    return times


async def live_latency(url: str, cohort: int, teacher: str, learner: str, samples: int) -> list[float]:
    ws_url = url.replace("http://", "ws://") + f"/ws/cohorts/{cohort}/"
    csrf = secrets.token_hex(16)
    conn = HttpConnection(url, {"sessionid": learner, "csrftoken": csrf})
    headers = {"X-CSRFToken": csrf}
    status, response_headers, _ = await conn.request("POST", "/quizzes/groups/", {"mode": "test"}, headers)
    attempt_path = response_headers["location"]
    attempt_id = re.search(r"/attempt/(\d+)/", attempt_path).group(1)
    _, _, page = await conn.request("GET", attempt_path)
    question = re.search(r'name="question" value="([^"]+)"', page.decode()).group(1)
    keys = re.findall(r'id="q1-([a-z])"', page.decode())
    latencies = []
    async with websockets.connect(ws_url, origin=url, additional_headers={"Cookie": f"sessionid={teacher}"}) as socket:
        for i in range(samples):
            started = time.perf_counter()
            await conn.request(
                "POST",
                f"/quizzes/attempt/{attempt_id}/answer/",
                {"question": question, "choice": keys[i % len(keys)]},
                {**headers, "HX-Request": "true"},
            )
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if event["kind"] == "answer":
                    break
            latencies.append((time.perf_counter() - started) * 1000)
    await conn.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with daphne_server() as (url, env):
        started = time.perf_counter()
        ids = json.loads(
            manage(env, "shell", "--no-imports", "-c", SETUP.replace("LEARNERS", str(args.learners)))
            .strip()
            .splitlines()[-1]
        )
        setup_seconds = time.perf_counter() - started
        pages = asyncio.run(page_times(url, ids["cohort"], ids["teacher"], 22))[2:]
        latencies = asyncio.run(live_latency(url, ids["cohort"], ids["teacher"], ids["learner"], args.samples))
    rows = [
        (
            "cohort",
            f"{args.learners} learners × 20 topics of generated activity (set up in {setup_seconds:.0f} s)",
            "",
            "",
        ),
        (
            f"dashboard page p50 / p90 / max ({len(pages)} requests)",
            f"{percentile(pages, 50):.0f} ms / {percentile(pages, 90):.0f} ms / {max(pages):.0f} ms",
            "≤ 200 ms (judged on p90)",
            "met" if percentile(pages, 90) <= 200 else "missed",
        ),
        (
            f"answer → instructor socket p50 / p99 ({len(latencies)} answers)",
            f"{percentile(latencies, 50):.1f} ms / {percentile(latencies, 99):.1f} ms",
            "p99 ≤ 100 ms",
            "met" if percentile(latencies, 99) <= 100 else "missed",
        ),
    ]
    notes = (
        "One Daphne process, SQLite (the embedded default), in-memory channel layer, DEBUG off, client on the same "
        "2-core machine. Page time is measured at the client over a kept-alive loopback connection (server time plus "
        "a loopback round trip). Latency runs from sending the learner's answer POST until the instructor's socket "
        "receives the `answer` event, answers sent one after another."
    )
    write_results(
        Path(__file__).with_name("dashboard_RESULTS.md"),
        "Instructor dashboard",
        f"python bench/dashboard_bench.py --learners {args.learners} --samples {args.samples}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
