"""The app migrates, writes and reads on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest

from tests.conftest import COMMAND_SECONDS, ROOT, production_env

# An outer bound for one manage.py command: migrate took over 120 s beside stress-ng on 2 cores.


@pytest.mark.timeout(1200)
def test_app_runs_on_postgresql(tmp_path, postgres_admin_url):
    name = f"academy_check_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = production_env(tmp_path, DATABASE_URL=postgres_admin_url.rsplit("/", 1)[0] + f"/{name}")

        def manage(*args: str) -> str:
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_SECONDS,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout

        manage("migrate", "--noinput", "-v0")
        manage("seed_demo", "--password", "pg-demo-password-1")
        out = manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.db import connection; from django.contrib.auth.models import User;"
            "User.objects.create_user('pg-writer', password='x-long-password-1');"
            "names = ['demo-instructor', 'demo-learner', 'pg-writer'];"
            "print(connection.vendor, sorted(User.objects.filter(username__in=names).values_list('username', flat=True)))",
        )
        assert out.strip() == "postgresql ['demo-instructor', 'demo-learner', 'pg-writer']"
        # The topic page's one hand-written statement reads the same progress as the ORM on PostgreSQL too.
        out = manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import User; from django.test import RequestFactory;"
            "from lessons.catalogue import get_catalogue;"
            "from lessons.learner_progress import load_topic_progress, load_user_progress, record_visit;"
            "request = RequestFactory().get('/'); request.user = User.objects.get(username='pg-writer');"
            "topics = get_catalogue().topics;"
            "[record_visit(request, t, t.mode_keys[0], chosen=True, progress=load_user_progress(request.user))"
            " for t in topics[:3]];"
            "page, whole = load_topic_progress(request, topics[0]), load_user_progress(request.user);"
            "print(page.last == (topics[2].slug, topics[2].mode_keys[0]),"
            " (page.last, page.last_seen, page.preferred_mode) == (whole.last, whole.last_seen, whole.preferred_mode));"
            # ... and so does the outline's: modes seen, and challenge gradings as challenges.progress counts them.
            "from django.utils import timezone; from challenges.models import Submission;"
            "from challenges.progress import statuses_of; from config.outline import outline_marks;"
            "[Submission.objects.create(learner=request.user, challenge='shout-echo', code='', content_hash='',"
            " started_at=timezone.now(), finished_at=timezone.now(), passed=passed, seconds=seconds)"
            " for passed, seconds in ((True, 2.5), (False, 1.0), (True, 1.5))];"
            "request.session = {}; marks = outline_marks(request);"
            "shown = lambda found: {slug: (s.attempts, s.passes, s.best_seconds) for slug, s in found.items()};"
            "print(marks.progress.seen == whole.seen, shown(marks.challenges) == shown(statuses_of(request.user)),"
            " shown(marks.challenges))",
        )
        assert out.strip() == "True True\nTrue True {'shout-echo': (3, 2, 1.5)}"
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
