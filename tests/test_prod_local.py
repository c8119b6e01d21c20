"""`make prod-local`: nginx in front of two Daphne processes on PostgreSQL and Redis, exercised for real."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.conftest import ROOT, free_port, missing_service, wait_for_http
from tests.playground.conftest import run_starter_until_live
from tests.support.processes import pids_where

# migrate, collectstatic and seed_demo on an empty database come first: minutes on a loaded 2-core machine, so these
# tests get a longer per-test timeout than the suite's 300 s.
STARTUP_SECONDS = 300
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def prod_local(request, tmp_path, own_redis):
    """The layout started by scripts/prod-local.sh on its own database and its own Redis (the other prod-local test,
    which may run beside it, has its own), stopped (and dropped) afterwards; an indirect parameter sets
    PLAYGROUND_EXECUTION (page by default)."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing_service("nginx is not installed (make test installs nginx-light)")
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        missing_service("prod-local needs PostgreSQL: DATABASE_URL is not a postgres:// URL")
    database_url = f"{server.rsplit('/', 1)[0]}/prod_local_{os.getpid()}"
    ports = [free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ACADEMY_"))}
    env.update(
        PORT=str(ports[0]),
        DAPHNE_PORTS=f"{ports[1]} {ports[2]}",
        PROD_LOCAL_DIR=str(tmp_path / "prod"),
        DATABASE_URL=database_url,
        REDIS_URL=own_redis.url,
        PLAYGROUND_EXECUTION=getattr(request, "param", "page"),
    )
    log = open(tmp_path / "prod-local.log", "wb")
    proc = subprocess.Popen(
        ["bash", "scripts/prod-local.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{ports[0]}"
    try:
        wait_for_http(url + "/healthz", proc, timeout=STARTUP_SECONDS)
        yield {
            "url": url,
            "proc": proc,
            "daphne_ports": ports[1:],
            "log": tmp_path / "prod-local.log",
            "dir": env["PROD_LOCAL_DIR"],
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        with psycopg.connect(f"{server.rsplit('/', 1)[0]}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "prod_local_{os.getpid()}" WITH (FORCE)')


def log_in(url: str, username: str, password: str) -> str:
    """Sign in through the real login form (CSRF included); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    request = urllib.request.Request(url + "/accounts/login/", data=form.encode(), headers={"Referer": url + "/"})
    opener.open(request, timeout=30).close()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, "login failed"
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def daphne_pids(port: int) -> list[int]:
    """Processes whose command line is the Daphne of this port."""
    return pids_where(lambda argv, _: any(arg.endswith(b"daphne") for arg in argv) and str(port).encode() in argv)


def test_prod_local_serves_through_nginx_and_survives_losing_a_daphne(prod_local):
    url = prod_local["url"]
    with urllib.request.urlopen(url + "/healthz", timeout=30) as response:
        checks = json.load(response)["checks"]
    assert checks["database"]["vendor"] == "postgresql"
    assert checks["channel_layer"]["backend"] == "QuietRedisChannelLayer"
    assert checks["sandbox"]["sandboxed"] is True

    with urllib.request.urlopen(url + "/static/css/site.css", timeout=30) as response:
        assert response.headers["Server"].startswith("nginx")  # from disk, not through Django
        assert "max-age=3600" in response.headers.get_all("Cache-Control")
    with urllib.request.urlopen(url + "/favicon.ico", timeout=30) as response:
        assert response.headers["Expires"], "from disk (nginx's expires), not through Daphne"
        assert response.read(4) == b"\x00\x00\x01\x00"  # the collected static/img/favicon.ico

    with pytest.raises(InvalidStatus):
        ws_connect(url.replace("http", "ws") + "/ws/playground/", origin="https://evil.example", open_timeout=10)

    cookie = log_in(url, "demo-learner", (Path(prod_local["dir"]) / "demo-password").read_text().strip())
    with ws_connect(
        url.replace("http", "ws") + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}
    ) as page:
        live_url = run_starter_until_live(page, "echo")
        assert live_url.startswith(url.replace("http", "ws") + "/ws/live/")
        for attempt in range(4):  # nginx alternates processes: the live client reaches either one
            with ws_connect(live_url + "ws/echo/", open_timeout=10) as external:
                external.send(f"through nginx {attempt}")
                assert external.recv(timeout=10) == f"through nginx {attempt}"

    first, second = prod_local["daphne_ports"]
    for pid in daphne_pids(first):
        os.kill(pid, signal.SIGKILL)
    for _ in range(10):
        with urllib.request.urlopen(url + "/lessons/", timeout=30) as response:
            assert response.status == 200  # nginx moves on to the Daphne that is left
    deadline = time.monotonic() + 30
    while not daphne_pids(first) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert daphne_pids(first), "the killed Daphne was not started again"
    assert "Daphne on port" in prod_local["log"].read_text()

    os.killpg(prod_local["proc"].pid, signal.SIGTERM)
    prod_local["proc"].wait(20)
    deadline = time.monotonic() + 10
    while (daphne_pids(first) or daphne_pids(second)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not daphne_pids(first) and not daphne_pids(second)
    assert "prod-local stopped" in prod_local["log"].read_text()


def runworker_pids(prod_dir: str) -> list[int]:
    """The playground workers that this prod-local (told apart by its PROD_LOCAL_DIR) started."""
    marker = f"PROD_LOCAL_DIR={prod_dir}".encode()
    return pids_where(lambda argv, environ: b"runworker" in argv and marker in environ)


@pytest.mark.parametrize("prod_local", ["workers"], indirect=True)
def test_prod_local_in_workers_mode_runs_learner_code_on_its_worker(prod_local):
    url = prod_local["url"]
    with urllib.request.urlopen(url + "/healthz", timeout=30) as response:
        assert json.load(response)["checks"]["sandbox"]["execution"] == "workers"
    assert runworker_pids(prod_local["dir"])
    cookie = log_in(url, "demo-learner", (Path(prod_local["dir"]) / "demo-password").read_text().strip())
    with ws_connect(
        url.replace("http", "ws") + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}
    ) as page:
        live_url = run_starter_until_live(page, "echo")
        with ws_connect(live_url + "ws/echo/", open_timeout=10) as external:
            external.send("through a worker")
            assert external.recv(timeout=10) == "through a worker"

    os.killpg(prod_local["proc"].pid, signal.SIGTERM)
    prod_local["proc"].wait(20)
    deadline = time.monotonic() + 10
    while runworker_pids(prod_local["dir"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not runworker_pids(prod_local["dir"])
    assert "prod-local stopped" in prod_local["log"].read_text()
