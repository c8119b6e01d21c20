"""Shared fixtures: a real Daphne server, a real browser, and the real Redis / PostgreSQL services."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

# Every server and command a test starts reads the rendered content from one snapshot folder instead of rendering it
# again (lessons/catalogue/snapshot.py), whatever data folder it is given.
os.environ.setdefault("ACADEMY_CONTENT_CACHE_DIR", str(ROOT / "data" / "content-cache"))


# Tests that start whole layouts or several servers take the longest; they go first, so that under pytest-xdist no
# worker draws one at the end and finishes alone.
LONG_FIRST = (
    "tests/test_prod_local.py",
    "tests/test_upgrade.py",
    "tests/faults/",
    "tests/fidelity/test_content.py",
    "tests/challenges/test_content.py",
    "tests/test_make_run.py",
    "tests/playground/test_cross_process.py",
    "tests/sandbox/test_userns.py",
    "tests/test_postgres.py",
    "tests/test_install_steps.py",
    "tests/test_units.py",
    "tests/test_two_machines.py",
    "tests/test_settings_env.py",
    # Browser tests run last, these first among them: each walks every page (tests/e2e/test_every_page.py).
    "tests/e2e/test_every_page.py",
    "tests/e2e/test_quiz_flow.py",
)


def pytest_collection_modifyitems(config, items):
    """Long tests first; browser tests last: Playwright's session keeps an event loop running in the main thread.
    (scripts/test.sh keeps this order per xdist worker with --dist loadgroup --no-loadscope-reorder.)"""

    def rank(item) -> tuple[bool, int]:
        path = item.nodeid.split("::", 1)[0]
        long = next((n for n, prefix in enumerate(LONG_FIRST) if path.startswith(prefix)), len(LONG_FIRST))
        return item.get_closest_marker("e2e") is not None, long

    items.sort(key=rank)
    name_xdist_groups(config, items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With ACADEMY_TEST_TIMELINE=FILE each xdist worker appends "worker start end nodeid" per test, to see where the
    suite's wall time goes (which worker finishes last, and on what)."""
    timeline = os.environ.get("ACADEMY_TEST_TIMELINE")
    start = time.time()
    yield
    if timeline:
        with open(f"{timeline}.{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}", "a") as out:
            out.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')} {start:.3f} {time.time():.3f} {item.nodeid}\n")


def name_xdist_groups(config, items) -> None:
    """--dist loadgroup, as pytest-xdist 3.8 means it: an xdist worker reports each test marked xdist_group as
    NODEID@GROUP, and the controller hands one group to one worker. xdist still writes that suffix to item._nodeid,
    which pytest 9 no longer reads (nodeid comes from item._id), so without this every group was split."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})  # fmt: skip
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def services_required() -> bool:
    """`make test` and CI demand every real service; a bare `pytest` may skip what is absent."""
    return os.environ.get("CI") == "true" or os.environ.get("ACADEMY_REQUIRE_SERVICES") == "1"


def missing_service(message: str) -> None:
    """Fail when services are required, skip otherwise."""
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


# Ports for the servers tests start come from below the kernel's ephemeral range (32768 and up), so a client socket of a
# parallel test can never take one between free_port() and the server's bind; each xdist worker has its own slice.
PORT_RANGE = range(20000, 32000)
PORT_SLICES = 8


def worker_index() -> int:
    """0 for gw0 (or a run without xdist), 1 for gw1, ..."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


_port_candidates = iter(())


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now, from this worker's slice (never handed out twice)."""
    global _port_candidates
    for _ in range(2):
        for port in _port_candidates:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        size = len(PORT_RANGE) // PORT_SLICES
        start = PORT_RANGE.start + (worker_index() % PORT_SLICES) * size
        offset = random.randrange(size)  # another run (another checkout) on this machine starts elsewhere
        _port_candidates = iter([start + (offset + n) % size for n in range(size)])
    raise RuntimeError("no free port left in this worker's slice")


def database_url_for(settings_dict: dict) -> str:
    """The DATABASE_URL that points a subprocess at the database this test session uses."""
    engine = settings_dict["ENGINE"]
    if engine.endswith(("sqlite3", "sqlite_pool")):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        auth = settings_dict["USER"] or ""
        if settings_dict.get("PASSWORD"):
            auth += f":{settings_dict['PASSWORD']}"
        host = settings_dict["HOST"] or "127.0.0.1"
        port = settings_dict["PORT"] or 5432
        return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"no URL form for {engine}")


def production_env(tmp_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess that runs the real settings with DEBUG off, over plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="test-only-" + "k" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_DATA_DIR=str(tmp_dir),
        DJANGO_HEALTHZ_TOKEN=HEALTHZ_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# The token the servers tests start accept for /healthz's details (the public answer is only ok / not ok).
HEALTHZ_TOKEN = "test-healthz-token"


def health_details(base_url: str, token: str = HEALTHZ_TOKEN) -> dict:
    """/healthz with its details (asked with the operator's token); 503 answers too."""
    request = urllib.request.Request(base_url + "/healthz", headers={"X-Healthz-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)


# How long a server may take to answer at all: generous, since a loaded 2-core machine takes 25 s to start a Daphne;
# a server that dies fails the wait at once.
STARTUP_SECONDS = 120
# How long a command a test runs (manage.py, backup.sh, ...) may take before the test calls it hung: an outer bound far
# above a loaded machine's worst case, not a goal (timings are measured in bench/).
COMMAND_SECONDS = 600


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = STARTUP_SECONDS, log: Path | None = None) -> None:
    """Poll until the server answers, failing early if the process died (with the end of its log, when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = f"; its log ends:\n{log.read_text(errors='replace')[-3000:]}" if log else ""
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}{said}")
        try:  # once connected, wait for the answer (the first /healthz runs the sandbox gate)
            with urllib.request.urlopen(url, timeout=max(1.0, deadline - time.monotonic())):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout}s")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it is still there ten seconds later."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class DaphneServer:
    """A real Daphne process serving config.asgi on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, probe: str = "/healthz") -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_http(self.url + probe, self.proc, log=log_path)
        except BaseException:
            self.stop()  # a server that never answered must not outlive its test
            raise

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """STATIC_ROOT filled once per run by collectstatic, as production serves it (xdist workers share it)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base  # xdist: the run's, above each worker's
    data_dir = shared / "server-data"
    with open(shared / "server-data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker collects; the others wait for it, then reuse
        if not (data_dir / "collected").exists():
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                cwd=ROOT,
                env=production_env(data_dir),
                check=True,
            )
            (data_dir / "collected").touch()
    return data_dir


def shared_server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A server environment that shares this test process's database, secret key and password hasher,
    so rows, sessions and passwords made here are valid there (and the other way round)."""
    from django.conf import settings
    from django.db import connection

    return production_env(
        data_dir,
        DATABASE_URL=database_url_for(connection.settings_dict),
        DJANGO_SETTINGS_MODULE="config.test_settings",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        # A server has one event loop for its life: it keeps the pool that config.test_settings turns off.
        **{"PLAYGROUND_POOL_SIZE": os.environ.get("PLAYGROUND_POOL_SIZE", "2"), **extra},
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, but the test database is dropped even when a session of a server a test started lingers (the
    DROP otherwise fails with "is being accessed by other users" and leaves the database behind)."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, collected_static, tmp_path_factory):
    """A Daphne subprocess on the test database, with DEBUG off (session-scoped; tests use transactional_db)."""
    server = DaphneServer(shared_server_env(collected_static), tmp_path_factory.mktemp("logs") / "daphne.log")
    yield server
    server.stop()


@pytest.fixture
def redis_url() -> str:
    """The real Redis the tests use (REDIS_URL, or the local default)."""
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture
def postgres_admin_url() -> str:
    """A URL for a PostgreSQL role that may create databases (from DATABASE_URL or the local default)."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        psycopg.connect(admin_url, connect_timeout=2).close()
    except psycopg.Error as exc:
        missing_service(f"PostgreSQL at {admin_url} is not reachable: {exc}")
    return admin_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, never a downloaded browser."""
    if not shutil.which(CHROMIUM):
        missing_service(f"{CHROMIUM} is missing: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # One renderer may serve several sites and at most two renderers run: 12-14 % less CPU for the same
            # tests (tests/e2e/test_visualizer_flow.py 123 -> 108 CPU-s), on a suite bound by CPU.
            "--disable-site-isolation-trials",
            "--disable-features=site-per-process,IsolateOrigins,Translate,MediaRouter,OptimizationHints",
            "--renderer-process-limit=2",
            "--disable-extensions",
            "--mute-audio",
        ],
    }


class RedisServer:
    """A redis-server only this test uses, so stopping it disturbs nobody (no persistence: a restart is empty)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing_service("redis-server is not installed (make test installs it)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


@pytest.fixture
def own_redis():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_servers(own_redis, collected_static, tmp_path):
    """Start Daphne processes on own_redis and the test database; every one is stopped afterwards."""
    started: list[DaphneServer] = []

    def start(count: int = 1, **extra: str) -> list[DaphneServer]:
        env = shared_server_env(collected_static, REDIS_URL=own_redis.url, ACADEMY_TEST_CHANNEL_LAYER="redis", **extra)
        for _ in range(count):
            started.append(DaphneServer(env, tmp_path / f"daphne-{len(started)}.log"))
        return started[-count:]

    yield start
    for server in started:
        server.stop()
