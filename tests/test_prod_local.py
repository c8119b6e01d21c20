"""`make prod-local`: nginx in front of two Daphne processes on PostgreSQL and Redis, exercised for real."""

from __future__ import annotations

import http.cookiejar
import itertools
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.conftest import ROOT, RedisServer, free_port, health_details, missing_service, wait_for_http
from tests.playground.conftest import run_starter_until_live
from tests.support.processes import pids_where

# migrate, collectstatic and seed_demo on an empty database come first: minutes on a loaded 2-core machine, so these
# tests get a longer per-test timeout than the suite's 300 s (the first test of a class waits for its layout to start).
STARTUP_SECONDS = 300
# Each layout costs about half a minute to start, so the tests of one layout share it (a class-scoped fixture); the
# group keeps them on one xdist worker. A class's last test stops its layout and checks that everything stopped.
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("prod-local")]
SANDBOXING = ROOT / "deploy" / "academy-sandboxing.conf"
_layouts = itertools.count()


@contextmanager
def running_prod_local(work: Path, redis_url: str, root: Path = ROOT, **settings: str) -> Iterator[dict]:
    """scripts/prod-local.sh of the tree `root` on a database of its own and the given Redis, stopped (and its database
    dropped) afterwards; `settings` are environment variables (PLAYGROUND_EXECUTION, PROD_LOCAL_TLS=1 for https)."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing_service("nginx is not installed (make test installs nginx-light)")
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        missing_service("prod-local needs PostgreSQL: DATABASE_URL is not a postgres:// URL")
    database = f"prod_local_{os.getpid()}_{next(_layouts)}"
    database_url = f"{server.rsplit('/', 1)[0]}/{database}"
    ports = [free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ACADEMY_"))}
    env.update(
        PORT=str(ports[0]),
        DAPHNE_PORTS=f"{ports[1]} {ports[2]}",
        PROD_LOCAL_DIR=str(work / "prod"),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ACADEMY_CONTENT_CACHE_DIR=os.environ["ACADEMY_CONTENT_CACHE_DIR"],
        **settings,
    )
    tls = env.get("PROD_LOCAL_TLS") == "1"
    log_path = work / "prod-local.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        ["bash", "scripts/prod-local.sh"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{ports[0]}"
    context = None
    try:
        if tls:  # the Daphne processes first, then nginx with the certificate prod-local made
            wait_for_http(f"http://127.0.0.1:{ports[1]}/livez", proc, timeout=STARTUP_SECONDS, log=log_path)
            context = ssl.create_default_context(cafile=work / "prod" / "tls" / "cert.pem")
            wait_for_https(url + "/healthz", context, proc)
        else:
            wait_for_http(url + "/healthz", proc, timeout=STARTUP_SECONDS, log=log_path)
        nginx_errors = work / "prod" / "nginx" / "error.log"
        yield {
            "url": url,
            "nginx_errors_when_ready": nginx_errors.read_text() if nginx_errors.exists() else "",
            "ssl": context,
            "proc": proc,
            "daphne_ports": ports[1:],
            "log": log_path,
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
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="class")
def layout_redis():
    """A Redis of the layout's own: one test restarts it."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="class")
def page_layout(tmp_path_factory, layout_redis):
    """prod-local in page mode (each Daphne runs its pages' sandboxes), plain HTTP."""
    with running_prod_local(tmp_path_factory.mktemp("page-layout"), layout_redis.url) as layout:
        yield layout


@pytest.fixture(scope="class")
def workers_tls_layout(tmp_path_factory, layout_redis):
    """prod-local in workers mode (a runworker runs the code) behind nginx over TLS with a self-signed certificate."""
    with running_prod_local(
        tmp_path_factory.mktemp("workers-layout"), layout_redis.url, PLAYGROUND_EXECUTION="workers", PROD_LOCAL_TLS="1"
    ) as layout:
        yield layout


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


def healthz_token(layout: dict) -> str:
    """The token prod-local generated for /healthz's details."""
    return (Path(layout["dir"]) / "healthz-token").read_text().strip()


def demo_password(layout: dict) -> str:
    return (Path(layout["dir"]) / "demo-password").read_text().strip()


def daphne_pids(port: int) -> list[int]:
    """Processes whose command line is the Daphne of this port."""
    return pids_where(lambda argv, _: b"config.serve" in argv and str(port).encode() in argv)


def runworker_pids(prod_dir: str) -> list[int]:
    """The playground workers that this prod-local (told apart by its PROD_LOCAL_DIR) started."""
    marker = f"PROD_LOCAL_DIR={prod_dir}".encode()
    return pids_where(lambda argv, environ: b"runworker" in argv and marker in environ)


# Capability numbers (linux/capability.h) of the names deploy/academy-sandboxing.conf uses.
CAPABILITY_BITS = {"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_ADMIN": 12,
                   "CAP_SYS_ADMIN": 21}  # fmt: skip


def sandboxing_bounding_set() -> int:
    """The bounding set of deploy/academy-sandboxing.conf, as /proc/PID/status shows it."""
    (line,) = re.findall(r"^CapabilityBoundingSet=(.*)$", SANDBOXING.read_text(), re.M)
    return sum(1 << CAPABILITY_BITS[name] for name in line.split())


def privileges(pid: int) -> dict[str, int]:
    """A process's real and effective uid, capability sets and no_new_privs, from /proc/PID/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    real, effective = (int(uid) for uid in fields["Uid"].split()[:2])
    status = {name: int(fields[name].strip(), 16) for name in ("CapPrm", "CapEff", "CapBnd", "CapInh", "CapAmb")}
    return {"uid": real, "euid": effective, **status, "NoNewPrivs": int(fields["NoNewPrivs"])}


def status_of(url: str, context: ssl.SSLContext | None = None) -> int:
    """The HTTP status nginx answered (any status, not only 2xx), or 0 when it gave none at all."""
    try:
        with urllib.request.urlopen(url, timeout=30, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def stop_and_check_everything_stopped(layout: dict, pids: Callable[[], list[int]]) -> None:
    """Ctrl+C (SIGTERM) on prod-local stops every process it started."""
    os.killpg(layout["proc"].pid, signal.SIGTERM)
    layout["proc"].wait(60)
    deadline = time.monotonic() + 60  # a runworker ends its warm sandboxes first: slow on a loaded machine
    while pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pids()
    assert "prod-local stopped" in layout["log"].read_text()


class TestPageLayout:
    """Page mode: each Daphne runs the sandboxes of the pages it holds."""

    def test_nginx_starts_only_once_every_daphne_answers(self, page_layout):
        """A process nginx found refusing at start stays marked failed for fail_timeout; losing the other one in that
        time left no process for pages (502 "no live upstreams", seen in a suite run)."""
        errors = page_layout["nginx_errors_when_ready"]
        assert "connect() failed" not in errors and "no live upstreams" not in errors, errors[-2000:]

    def test_nginx_serves_static_files_refuses_big_bodies_and_foreign_origins(self, page_layout):
        url = page_layout["url"]
        checks = health_details(url, healthz_token(page_layout))["checks"]
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

    def test_a_learner_runs_code_and_a_live_client_reaches_it_through_either_process(self, page_layout):
        url = page_layout["url"]
        cookie = log_in(url, "demo-learner", demo_password(page_layout))
        with ws_connect(
            url.replace("http", "ws") + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}
        ) as page:
            live_url = run_starter_until_live(page, "echo")
            assert live_url.startswith(url.replace("http", "ws") + "/ws/live/")
            for attempt in range(4):  # nginx alternates processes: the live client reaches either one
                with ws_connect(live_url + "ws/echo/", open_timeout=10) as external:
                    external.send(f"through nginx {attempt}")
                    assert external.recv(timeout=10) == f"through nginx {attempt}"

    def test_daphne_launches_sandboxes_so_it_keeps_only_the_sandboxing_capabilities(self, page_layout):
        """As academy-daphne@.service with deploy/academy-sandboxing.conf as its drop-in: uid 0, bounded to the
        capabilities bubblewrap needs, no_new_privs (the run above worked under exactly these)."""
        wanted = sandboxing_bounding_set()
        for port in page_layout["daphne_ports"]:
            (pid,) = daphne_pids(port)
            seen = privileges(pid)
            assert seen["uid"] == 0 and seen["NoNewPrivs"] == 1, seen
            assert seen["CapBnd"] == seen["CapPrm"] == seen["CapEff"] == wanted, seen
            assert seen["CapInh"] == seen["CapAmb"] == 0, seen

    def test_losing_a_daphne_fails_no_page_request_and_it_is_started_again(self, page_layout):
        url = page_layout["url"]
        first, _ = page_layout["daphne_ports"]
        for pid in daphne_pids(first):
            os.kill(pid, signal.SIGKILL)
        for _ in range(10):
            with urllib.request.urlopen(url + "/lessons/", timeout=30) as response:
                assert response.status == 200  # nginx moves on to the Daphne that is left
        deadline = time.monotonic() + 30
        while not daphne_pids(first) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert daphne_pids(first), "the killed Daphne was not started again"
        assert "Daphne on port" in page_layout["log"].read_text()

    def test_pages_keep_answering_while_probed_a_daphne_killed_and_redis_restarted(self, page_layout, layout_redis):
        """A load balancer probes /healthz through nginx the whole time (a 503 from a process without Redis must not
        take it out of rotation); learners' page requests through nginx must all answer 200 (issue 20 item 1)."""
        url = page_layout["url"]
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
            first, _ = page_layout["daphne_ports"]
            for pid in daphne_pids(first):
                os.kill(pid, signal.SIGKILL)
            page_until(lambda: status_of(f"http://127.0.0.1:{first}/livez") == 200, "the killed Daphne coming back")
            layout_redis.stop()
            page_until(lambda: probes[503] > 0, "a probe seeing Redis gone")
            layout_redis.start()
            page_until(lambda: status_of(url + "/healthz") == 200, "readiness after Redis came back")
            page_until(lambda: pages[200] >= 10 + 40, "forty more pages")
        finally:
            stop.set()
            prober.join(30)
        assert set(pages) == {200}, f"page answers through nginx: {dict(pages)}; probes: {dict(probes)}"

    def test_stopping_prod_local_stops_every_daphne(self, page_layout):
        ports = page_layout["daphne_ports"]
        stop_and_check_everything_stopped(page_layout, lambda: [pid for port in ports for pid in daphne_pids(port)])


class TestWorkersLayoutOverTls:
    """Workers mode (a runworker runs the learners' code) behind nginx over TLS."""

    def test_over_tls_the_page_shows_a_wss_live_url_that_reaches_code_on_the_worker(self, workers_tls_layout):
        """Issue 20 item 2: nginx ends TLS; the live URL shown on the page is wss:// and a real client reaches the
        learner's consumer, which runs on the playground worker, through it."""
        url, context = workers_tls_layout["url"], workers_tls_layout["ssl"]
        daphne = f"http://127.0.0.1:{workers_tls_layout['daphne_ports'][0]}"  # a probe straight to one process
        assert health_details(daphne, healthz_token(workers_tls_layout))["checks"]["sandbox"]["execution"] == "workers"
        assert runworker_pids(workers_tls_layout["dir"])
        cookie = log_in(url, "demo-learner", demo_password(workers_tls_layout), context)
        wss = url.replace("https", "wss")
        with ws_connect(
            wss + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}, ssl=context
        ) as page:
            live_url = run_starter_until_live(page, "echo")
            assert live_url.startswith(wss + "/ws/live/"), live_url
            with ws_connect(live_url + "ws/echo/", ssl=context, open_timeout=10) as external:
                external.send("over TLS, through a worker")
                assert external.recv(timeout=10) == "over TLS, through a worker"
            page.send(json.dumps({"type": "stop"}))

    def test_web_processes_run_unprivileged_and_only_the_worker_keeps_sandboxing_capabilities(self, workers_tls_layout):
        """Issue 20, least privilege: as academy-daphne@.service (User=academy, no capability) and
        academy-runworker@.service (uid 0 bounded to the sandboxing set)."""
        for port in workers_tls_layout["daphne_ports"]:
            (pid,) = daphne_pids(port)
            seen = privileges(pid)
            assert seen["uid"] != 0 and seen["euid"] != 0, seen
            assert seen["CapBnd"] == seen["CapPrm"] == seen["CapEff"] == seen["CapInh"] == seen["CapAmb"] == 0, seen
            assert seen["NoNewPrivs"] == 1, seen
        (worker,) = runworker_pids(workers_tls_layout["dir"])
        seen = privileges(worker)
        assert seen["uid"] == 0 and seen["NoNewPrivs"] == 1, seen
        assert seen["CapBnd"] == seen["CapEff"] == sandboxing_bounding_set(), seen

    def test_stopping_prod_local_stops_the_worker_and_every_daphne(self, workers_tls_layout):
        ports, prod_dir = workers_tls_layout["daphne_ports"], workers_tls_layout["dir"]
        stop_and_check_everything_stopped(
            workers_tls_layout,
            lambda: [*runworker_pids(prod_dir), *[pid for port in ports for pid in daphne_pids(port)]],
        )
