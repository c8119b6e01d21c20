"""Where one request's time goes, per page: CPU ms by layer, queries and writes, session saves.

Run: .venv/bin/python bench/request_profile.py [--requests 40]
Writes bench/request_profile_RESULTS.md. In-process (Django's test client through the whole middleware stack, DEBUG
off, SQLite in a fresh data folder), so the figures are CPU work per request without server or network; the
layers come from cProfile's own time per function, grouped by the file the function lives in.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import production_env  # noqa: E402

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
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):  # warm: caches, compiled templates, the content snapshot
        assert client.get(path, HTTP_HOST="127.0.0.1").status_code == 200, path
    writes = queries = session_saves = size = 0
    cpu = 0.0
    for _ in range(requests):  # unprofiled: the CPU time and the queries
        with CaptureQueriesContext(connection) as captured:
            started_cpu = time.process_time()
            response = client.get(path, HTTP_HOST="127.0.0.1")
            cpu += time.process_time() - started_cpu
        size += len(response.content)
        queries += len(captured.captured_queries)
        statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in captured.captured_queries]
        writes += sum(s in {"INSERT", "UPDATE", "DELETE", "REPLACE"} for s in statements)
        session_saves += any(
            "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
            for q in captured.captured_queries
        )
    profiler = cProfile.Profile(time.process_time)  # profiled: how that CPU time splits by layer
    for _ in range(requests):
        profiler.enable()
        client.get(path, HTTP_HOST="127.0.0.1")
        profiler.disable()
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        by_layer[layer_of(filename, function)] += tottime
    profiled_total = sum(by_layer.values()) or 1.0
    cpu_ms = 1000 * cpu / requests
    return {
        "cpu_ms": cpu_ms,
        "layers": {name: cpu_ms * by_layer[name] / profiled_total for name in LAYER_NAMES},
        "queries": queries / requests,
        "writes": writes / requests,
        "session_saves": session_saves / requests,
        "kib": size / requests / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    load = os.getloadavg()[0]
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
    write(results, args.requests, load)


def write(results: dict[str, dict], requests: int, load: float) -> None:
    floor = results[PAGES[0][0]]["cpu_ms"]
    lines = [
        "# Where a request's time goes",
        "",
        f"`python bench/request_profile.py --requests {requests}`: each page requested {requests} times after 5 warm-up "
        "requests, in one process through Django's whole middleware stack (test client, DEBUG off, SQLite), so no "
        "server, thread hop or network is counted. CPU ms is the process's CPU time per request, measured "
        "without the profiler; a second pass under cProfile (CPU clock) splits it by layer: each function's own "
        "time, grouped by the file it is in, as a share of the profiled total times the unprofiled CPU ms. "
        f"Load average when it started: {load:.1f} on {os.cpu_count()} cores (the CPU ms are this process's own, but "
        "a busy machine slows them too).",
        "",
        "| page | CPU ms | × floor | queries | writes | session saves | KiB | " + " | ".join(LAYER_NAMES) + " |",
        "| --- " * (7 + len(LAYER_NAMES)) + "|",
    ]
    for name, r in results.items():
        cells = [
            name,
            f"{r['cpu_ms']:.1f}",
            f"{r['cpu_ms'] / floor:.1f}",
            f"{r['queries']:.1f}",
            f"{r['writes']:.1f}",
            f"{r['session_saves']:.1f}",
            f"{r['kib']:.0f}",
        ] + [f"{r['layers'][layer]:.1f}" for layer in LAYER_NAMES]
        lines.append("| " + " | ".join(cells) + " |")
    Path(__file__).with_name("request_profile_RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
