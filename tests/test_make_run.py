"""The README's first command serves the home page and /healthz on embedded defaults."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request

import pytest

from tests.conftest import HEALTHZ_TOKEN, ROOT, free_port, health_details, wait_for_http


@pytest.mark.timeout(600)  # migrate, seed_demo and collectstatic first: minutes on a loaded 2-core machine
def test_make_run_serves_home_and_healthz(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), DJANGO_DATA_DIR=str(tmp_path), DJANGO_HEALTHZ_TOKEN=HEALTHZ_TOKEN)
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc, timeout=300)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert "Learn Django Channels by running it" in response.read().decode()
        health = health_details(f"http://127.0.0.1:{port}")
        assert health["checks"]["database"]["vendor"] == "sqlite"
        assert health["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
        assert (tmp_path / "db.sqlite3").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode()
    assert f"Channels Academy is starting at http://127.0.0.1:{port}/" in output
    assert "demo-learner" in output
