"""With Redis, runs cross processes: a live client on one Daphne reaches a sandbox owned by another, and in
workers mode the sandbox belongs to a `manage.py runworker` process, never to Daphne."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import DaphneServer, health_details, shared_server_env
from tests.factories import make_user
from tests.playground.conftest import run_starter_until_live, session_headers, unbatch
from tests.support.processes import RunWorker, descendant_commands

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_servers(redis_url, collected_static, tmp_path):
    """Two Daphne processes sharing the test database and one Redis channel layer."""
    isolated = redis_url.rsplit("/", 1)[0] + "/13"
    env = shared_server_env(collected_static, REDIS_URL=isolated, ACADEMY_TEST_CHANNEL_LAYER="redis")
    servers = [DaphneServer(env, tmp_path / f"daphne-{name}.log") for name in ("a", "b")]
    yield servers
    for server in servers:
        server.stop()


def healthz(server: DaphneServer) -> dict:
    return health_details(server.url)["checks"]


def test_live_client_on_process_b_talks_to_sandbox_owned_by_process_a(two_servers):
    owner, other = two_servers
    for server in two_servers:
        assert healthz(server)["channel_layer"]["backend"] == "QuietRedisChannelLayer"
    headers = dict((k.decode(), v.decode()) for k, v in session_headers(make_user("crosser")))
    with ws_connect(
        owner.ws_url + "/ws/playground/", origin=owner.url, additional_headers={"Cookie": headers["cookie"]}
    ) as page:
        live_url = run_starter_until_live(page, "echo", timeout=15)
        token_path = live_url.split("/ws/live/", 1)[1]
        with ws_connect(f"{other.ws_url}/ws/live/{token_path}ws/echo/", open_timeout=10) as external:
            external.send("across processes")
            assert external.recv(timeout=10) == "across processes"
        page.send(json.dumps({"type": "stop"}))
    assert "Traceback" not in owner.log_text() + other.log_text()


def workers_env(redis_url: str, collected_static: Path, database: str, **extra: str) -> dict[str, str]:
    """A server environment in workers mode on its own Redis database, so no other test's worker hears it."""
    isolated = redis_url.rsplit("/", 1)[0] + "/" + database
    return shared_server_env(
        collected_static,
        REDIS_URL=isolated,
        ACADEMY_TEST_CHANNEL_LAYER="redis",
        PLAYGROUND_EXECUTION="workers",
        **extra,
    )


def open_page(server: DaphneServer, username: str):
    headers = dict((k.decode(), v.decode()) for k, v in session_headers(make_user(username)))
    return ws_connect(
        server.ws_url + "/ws/playground/", origin=server.url, additional_headers={"Cookie": headers["cookie"]}
    )


def test_workers_mode_runs_the_sandbox_in_the_runworker_process_not_in_daphne(redis_url, collected_static, tmp_path):
    # The worker keeps no warm spares, so the only sandbox below it is the run's own.
    env = workers_env(redis_url, collected_static, "12")
    server = worker = None
    try:
        server = DaphneServer(env, tmp_path / "daphne.log")
        assert healthz(server)["sandbox"] == {"ok": True, "execution": "workers", "worker_channel": "playground-runs"}
        worker = RunWorker({**env, "PLAYGROUND_POOL_SIZE": "0"}, tmp_path / "runworker.log")
        with open_page(server, "worker-runner") as page:
            live_url = run_starter_until_live(page, "echo", timeout=30)
            with ws_connect(live_url + "ws/echo/", open_timeout=10) as external:
                external.send("from outside")
                assert external.recv(timeout=10) == "from outside"
            assert "bwrap" in descendant_commands(worker.proc.pid)
            assert "bwrap" not in descendant_commands(server.proc.pid)
            page.send(json.dumps({"type": "stop"}))
            while not any(
                m["type"] == "status" and m["state"] == "stopped" for m in unbatch(json.loads(page.recv(10)))
            ):
                pass
        deadline = time.monotonic() + 10
        while "bwrap" in descendant_commands(worker.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "bwrap" not in descendant_commands(worker.proc.pid)
        assert "Traceback" not in server.log_text() + worker.log_text()
    finally:
        for process in (worker, server):
            if process:
                process.stop()


def test_workers_mode_without_a_worker_says_so_within_the_start_time(redis_url, collected_static, tmp_path):
    server = DaphneServer(
        workers_env(redis_url, collected_static, "10", PLAYGROUND_WORKER_START_SECONDS="2"), tmp_path / "daphne.log"
    )
    try:
        with open_page(server, "lonely-runner") as page:
            page.send(json.dumps({"type": "run", "code": "x = 1\n", "starter": ""}))
            messages = []
            while not any(m["type"] == "status" and m["state"] == "stopped" for m in messages):
                messages.extend(unbatch(json.loads(page.recv(timeout=60))))
        assert messages[-1]["reason"].startswith("No playground worker answered within 2 seconds")
    finally:
        server.stop()
