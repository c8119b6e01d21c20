"""`make prod-local`: nginx in front of two Daphne processes on PostgreSQL and Redis, exercised for real."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.conftest import ROOT, free_port, health_details, missing_service, wait_for_http
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
    PLAYGROUND_EXECUTION (page by default), or is a dict of environment variables (PROD_LOCAL_TLS: https)."""
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
    )
    param = getattr(request, "param", "page")
    env.update(param if isinstance(param, dict) else {"PLAYGROUND_EXECUTION": param})
    tls = env.get("PROD_LOCAL_TLS") == "1"
    log = open(tmp_path / "prod-local.log", "wb")
    proc = subprocess.Popen(
        ["bash", "scripts/prod-local.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{ports[0]}"
    context = None
    try:
        if tls:  # the Daphne processes first, then nginx with the certificate prod-local made
            wait_for_http(f"http://127.0.0.1:{ports[1]}/livez", proc, timeout=STARTUP_SECONDS)
            context = ssl.create_default_context(cafile=tmp_path / "prod" / "tls" / "cert.pem")
            wait_for_https(url + "/healthz", context, proc)
        else:
            wait_for_http(url + "/healthz", proc, timeout=STARTUP_SECONDS)
        yield {
            "url": url,
            "ssl": context,
            "proc": proc,
            "daphne_ports": ports[1:],
            "log": tmp_path / "prod-local.log",
            "dir": env["PROD_LOCAL_DIR"],
            "database_url": database_url,
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


def wait_for_https(url: str, context: ssl.SSLContext, proc: subprocess.Popen, timeout: float = 60) -> None:
    """nginx answers over TLS, with the self-signed certificate trusted."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "prod-local exited"
        try:
            urllib.request.urlopen(url, timeout=10, context=context).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer over TLS"
            time.sleep(0.2)


def log_in(url: str, username: str, password: str, context: ssl.SSLContext | None = None) -> str:
    """Sign in through the real login form (CSRF included); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context)
    )
    page = opener.open(url + "/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    request = urllib.request.Request(url + "/accounts/login/", data=form.encode(), headers={"Referer": url + "/"})
    opener.open(request, timeout=30).close()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, "login failed"
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def healthz_token(prod_local: dict) -> str:
    """The token prod-local generated for /healthz's details."""
    return (Path(prod_local["dir"]) / "healthz-token").read_text().strip()


def daphne_pids(port: int) -> list[int]:
    """Processes whose command line is the Daphne of this port."""
    return pids_where(lambda argv, _: b"config.serve" in argv and str(port).encode() in argv)


def test_prod_local_serves_through_nginx_and_survives_losing_a_daphne(prod_local):
    url = prod_local["url"]
    checks = health_details(url, healthz_token(prod_local))["checks"]
    assert checks["database"]["vendor"] == "postgresql"
    assert checks["channel_layer"]["backend"] == "QuietRedisChannelLayer"
    assert checks["sandbox"]["sandboxed"] is True

    with urllib.request.urlopen(url + "/static/css/site.css", timeout=30) as response:
        assert response.headers["Server"].startswith("nginx")  # from disk, not through Django
        assert "max-age=3600" in response.headers.get_all("Cache-Control")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:  # 100 MB announced, 1 KB sent
        sock.sendall(
            f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {100 << 20}\r\n\r\n".encode()
        )
        sock.sendall(b"x" * 1024)
        assert sock.recv(64).startswith(b"HTTP/1.1 413 ")  # nginx answers from the header, before the body
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
    assert health_details(url, healthz_token(prod_local))["checks"]["sandbox"]["execution"] == "workers"
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


def status_of(url: str) -> int:
    """The HTTP status nginx answered (any status, not only 2xx), or 0 when it gave none at all."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def test_pages_keep_answering_while_probed_a_daphne_killed_and_redis_restarted(prod_local, own_redis):
    """A load balancer probes /healthz through nginx the whole time (a 503 from a process without Redis must not take
    it out of rotation); learners' page requests through nginx must all answer 200 (issue 20 item 1)."""
    url = prod_local["url"]
    probes: Counter[int] = Counter()
    pages: Counter[int] = Counter()
    stop = threading.Event()

    def probe_like_a_load_balancer() -> None:
        while not stop.is_set():
            probes[status_of(url + "/healthz")] += 1
            stop.wait(0.2)

    def page_until(condition, what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
            pages[status_of(url + "/lessons/")] += 1

    prober = threading.Thread(target=probe_like_a_load_balancer)
    prober.start()
    try:
        page_until(lambda: pages[200] >= 10, "ten pages")
        first, _ = prod_local["daphne_ports"]
        for pid in daphne_pids(first):
            os.kill(pid, signal.SIGKILL)
        page_until(lambda: status_of(f"http://127.0.0.1:{first}/livez") == 200, "the killed Daphne coming back")
        own_redis.stop()
        page_until(lambda: probes[503] > 0, "a probe seeing Redis gone")
        own_redis.start()
        page_until(lambda: status_of(url + "/healthz") == 200, "readiness after Redis came back")
        page_until(lambda: pages[200] >= 10 + 40, "forty more pages")
    finally:
        stop.set()
        prober.join(30)
    assert set(pages) == {200}, f"page answers through nginx: {dict(pages)}; probes: {dict(probes)}"


@pytest.mark.parametrize("prod_local", [{"PROD_LOCAL_TLS": "1"}], indirect=True)
def test_over_tls_the_page_shows_a_wss_live_url_that_works_through_nginx(prod_local):
    """Issue 20 item 2: nginx ends TLS; the live URL shown on the page is wss:// and a real client reaches the
    learner's consumer through it."""
    url, context = prod_local["url"], prod_local["ssl"]
    cookie = log_in(url, "demo-learner", (Path(prod_local["dir"]) / "demo-password").read_text().strip(), context)
    wss = url.replace("https", "wss")
    with ws_connect(wss + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}, ssl=context) as page:
        live_url = run_starter_until_live(page, "echo")
        assert live_url.startswith(wss + "/ws/live/"), live_url
        with ws_connect(live_url + "ws/echo/", ssl=context, open_timeout=10) as external:
            external.send("over TLS")
            assert external.recv(timeout=10) == "over TLS"
        page.send(json.dumps({"type": "stop"}))
