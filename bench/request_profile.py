"""Where one request's time goes, per page and per quiz answer: CPU ms by layer, queries, writes, transactions.

Run: .venv/bin/python bench/request_profile.py [--requests 40]
Writes bench/request_profile_RESULTS.md. In-process (Django's test client through the whole middleware stack, DEBUG
off, SQLite in a fresh data folder), so the figures are CPU work per request without server or network; the
layers come from cProfile's own time per function, grouped by the file the function lives in. The test client keeps
its database connection between requests; the rows "new connection" close it after each request, as the server
does (CONN_MAX_AGE 0: every request opens its own), so their extra CPU ms is the connection's set-up and close.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import production_env  # noqa: E402

if TYPE_CHECKING:
    from django.http import HttpResponseBase

LAYERS = (  # first match wins: (layer, path fragment)
    ("templates", "/django/template/"),
    ("templates", "/django/templatetags/"),
    ("ORM + database", "/django/db/"),
    ("ORM + database", "sqlite3"),
    ("ORM + database", "/psycopg"),
    ("sessions + auth", "/django/contrib/sessions/"),
    ("sessions + auth", "/django/contrib/auth/"),
    ("Markdown + Pygments", "/markdown/"),
    ("Markdown + Pygments", "/pygments/"),
    ("middleware + request", "/django/middleware/"),
    ("middleware + request", "/django/core/handlers/"),
    ("middleware + request", "/django/http/"),
    ("middleware + request", "/django/contrib/messages/"),
    ("middleware + request", "/django_htmx/"),
    ("middleware + request", "/config/"),
    ("URL resolving", "/django/urls/"),
    ("other Django", "/django/"),
    ("site code", str(ROOT)),
)
LAYER_NAMES = list(dict.fromkeys(name for name, _ in LAYERS)) + ["Python + other"]
PAGES = (
    ("floor: base.html, no view query", "/bench/base/", False),
    ("floor, signed in", "/bench/base/", True),
    ("topic page, anonymous", "/lessons/consumer-lifecycle/concept/", False),
    ("topic page, signed in", "/lessons/consumer-lifecycle/concept/", True),
    ("topic execution page, signed in", "/lessons/consumer-lifecycle/execution/", True),
    ("lesson outline, signed in", "/lessons/", True),
    ("quiz start page, signed in", "/quizzes/consumer-lifecycle/", True),
    ("login form, anonymous", "/accounts/login/", False),
)


def layer_of(filename: str, function: str) -> str:
    """A function's layer by its file; a built-in (file "~") by its own name, e.g. sqlite3.Cursor's execute."""
    where = function if filename == "~" else filename
    return next((name for name, fragment in LAYERS if fragment in where), "Python + other")


def setup_django(data_dir: Path) -> None:
    env = production_env(data_dir, DJANGO_SETTINGS_MODULE="bench.baseline_site", DJANGO_LOG_LEVEL="WARNING")
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def profile_page(client, path: str, requests: int) -> dict:
    return profile_requests(lambda: client.get(path, HTTP_HOST="127.0.0.1"), requests)


def profile_requests(send: Callable[[], HttpResponseBase], requests: int, *, new_connection: bool = False) -> dict:
    """Warm up, then CPU ms, queries, writes and transactions per request, and a profiled pass split by layer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):  # warm: caches, compiled templates, the content snapshot
        assert send().status_code == 200
    writes = queries = transactions = session_saves = size = 0
    cpu = wall = 0.0
    for _ in range(requests):  # unprofiled: the CPU time and the queries
        with CaptureQueriesContext(connection) as captured:
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            response = send()
            if new_connection:
                connection.close()
            cpu += time.process_time() - started_cpu
            wall += time.perf_counter() - started_wall
        size += len(response.content)
        queries += len(captured.captured_queries)
        statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in captured.captured_queries]
        writes += sum(s in {"INSERT", "UPDATE", "DELETE", "REPLACE"} for s in statements)
        transactions += sum(s == "BEGIN" for s in statements)
        session_saves += any(
            "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
            for q in captured.captured_queries
        )
    profiler = cProfile.Profile(time.process_time)  # profiled: how that CPU time splits by layer
    for _ in range(requests):
        profiler.enable()
        send()
        if new_connection:
            connection.close()
        profiler.disable()
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        by_layer[layer_of(filename, function)] += tottime
    profiled_total = sum(by_layer.values()) or 1.0
    cpu_ms = 1000 * cpu / requests
    return {
        "cpu_ms": cpu_ms,
        "wall_ms": 1000 * wall / requests,
        "layers": {name: cpu_ms * by_layer[name] / profiled_total for name in LAYER_NAMES},
        "queries": queries / requests,
        "writes": writes / requests,
        "transactions": transactions / requests,
        "session_saves": session_saves / requests,
        "kib": size / requests / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="academy-profile-") as data_dir:
        setup_django(Path(data_dir))
        from django.contrib.auth import get_user_model
        from django.test import Client

        learner = get_user_model().objects.create_user("profile-learner")
        anonymous, signed_in = Client(), Client()
        signed_in.force_login(learner)
        results = {
            name: profile_page(signed_in if signed else anonymous, path, args.requests) for name, path, signed in PAGES
        }
        results.update(profile_answers(args.requests))
    write(results, args.requests)


def answer_sender(learner, *, in_cohort: bool) -> Callable[[], HttpResponseBase]:
    """A learner's test-mode attempt, and a function that changes the answer to its first question each call.

    Test mode lets an answer change, so every call is the answer POST's full write path (an UPDATE), as in
    bench/quiz_bench.py; `in_cohort` puts the learner in a cohort, so each answer is also announced to its dashboards.
    """
    from django.test import Client

    from cohorts.models import Cohort, Membership
    from quizzes.models import Attempt

    if in_cohort:
        cohort = Cohort.objects.create(name=f"profile cohort of {learner.username}", created_by=learner)
        Membership.objects.create(cohort=cohort, user=learner, role=Membership.Role.LEARNER)
    client = Client(enforce_csrf_checks=False)
    client.force_login(learner)
    started = client.post("/quizzes/consumer-lifecycle/", {"mode": "test"}, HTTP_HOST="127.0.0.1")
    attempt_path = started["Location"]
    attempt = Attempt.objects.get(pk=int(attempt_path.rstrip("/").rsplit("/", 1)[1]))
    question = attempt.question_ids[0]
    choices = itertools.cycle(attempt.choice_orders[question][:2])

    def send() -> HttpResponseBase:
        return client.post(
            f"{attempt_path}answer/",
            {"question": question, "choice": next(choices)},
            HTTP_HOST="127.0.0.1",
            HTTP_HX_REQUEST="true",
        )

    return send


def profile_answers(requests: int) -> dict[str, dict]:
    """The quiz answer POST (htmx, as bench/quiz_bench.py sends it): alone, in a cohort, with a connection each."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {
        "quiz answer POST, signed in": profile_requests(
            answer_sender(users.create_user("profile-answerer"), in_cohort=False), requests
        ),
        "quiz answer POST, new connection": profile_requests(
            answer_sender(users.create_user("profile-answerer-2"), in_cohort=False), requests, new_connection=True
        ),
        "quiz answer POST, learner in a cohort": profile_requests(
            answer_sender(users.create_user("profile-answerer-3"), in_cohort=True), requests
        ),
    }


def write(results: dict[str, dict], requests: int) -> None:
    floor = results[PAGES[0][0]]["cpu_ms"]
    lines = [
        "# Where a request's time goes",
        "",
        f"`python bench/request_profile.py --requests {requests}`: each page requested {requests} times after 5 warm-up "
        "requests, in one process through Django's whole middleware stack (test client, DEBUG off, SQLite), so no "
        "server, thread hop or network is counted. CPU ms is the process's CPU time per request, measured "
        "without the profiler; a second pass under cProfile (CPU clock) splits it by layer: each function's own "
        "time, grouped by the file it is in, as a share of the profiled total times the unprofiled CPU ms. Wall ms "
        "is the same requests' elapsed time, so it carries whatever else the machine ran (the load average below) "
        "and the disk's waits. Transactions are BEGINs (on SQLite each takes the database's one write lock at once). "
        "The quiz answer rows change one test-mode answer back and forth (an UPDATE each, as quiz_bench.py does); "
        "'new connection' closes the connection after each request as the server does (CONN_MAX_AGE 0), so its "
        "extra CPU and wall ms are a connection's set-up and close; 'learner in a cohort' adds the dashboards' "
        "announcement, recorded and sent on commit inside the request.",
        "",
        f"Load average when it ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| page | CPU ms | wall ms | × floor | queries | writes | transactions | session saves | KiB | "
        + " | ".join(LAYER_NAMES)
        + " |",
        "| --- " * (9 + len(LAYER_NAMES)) + "|",
    ]
    for name, r in results.items():
        cells = [
            name,
            f"{r['cpu_ms']:.1f}",
            f"{r['wall_ms']:.1f}",
            f"{r['cpu_ms'] / floor:.1f}",
            f"{r['queries']:.1f}",
            f"{r['writes']:.1f}",
            f"{r['transactions']:.1f}",
            f"{r['session_saves']:.1f}",
            f"{r['kib']:.0f}",
        ] + [f"{r['layers'][layer]:.1f}" for layer in LAYER_NAMES]
        lines.append("| " + " | ".join(cells) + " |")
    Path(__file__).with_name("request_profile_RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
