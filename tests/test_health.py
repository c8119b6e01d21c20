"""Health endpoints (issue 19 item 10, issue 20 item 1): public ok / not ok, details for staff or a token, a liveness
URL that touches nothing, and a readiness check that does not wait behind the consumers' receive loop."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from websockets.asyncio.client import connect as ws_connect

from config import health
from config.layer import QuietRedisChannelLayer
from tests.conftest import HEALTHZ_TOKEN, DaphneServer, health_details, shared_server_env
from tests.factories import make_user
from tests.playground.conftest import session_headers

DETAILS = ("database", "channel_layer", "sandbox")


@pytest.fixture
def no_sandbox_in_this_process(settings):
    """The tests that call /healthz inside the test process are about who sees details, not about the sandbox gate
    (the real-Daphne tests below run it): in workers mode the check starts no sandbox pool in the test's event loop,
    which pytest-asyncio closes when the test ends, possibly while the pool is still starting a sandbox."""
    settings.PLAYGROUND_EXECUTION = "workers"


@pytest.fixture(autouse=True)
def no_probe_connection_left():
    """Readiness keeps a database connection per event loop; none may outlive its test (the test database is dropped
    at the end of the session)."""
    yield
    while health._probe_connections:
        health._probe_connections.popitem()[1].pgconn.finish()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.django_db
async def test_public_healthz_says_only_ok(no_sandbox_in_this_process):
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    for secret in ("vendor", "InMemoryChannelLayer", "mode", "sqlite", "postgresql"):
        assert secret not in response.text


@pytest.mark.django_db
async def test_healthz_details_need_the_token_and_it_must_match(settings, no_sandbox_in_this_process):
    settings.HEALTHZ_TOKEN = "operator-secret"
    right = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": "operator-secret"})
    assert set(right.json()["checks"]) == set(DETAILS)
    for wrong in ("operator-secreT", "operator-secret-and-more", ""):
        response = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": wrong})
        assert response.json() == {"ok": True}


@pytest.mark.django_db
async def test_without_a_token_setting_no_header_opens_the_details(settings, no_sandbox_in_this_process):
    settings.HEALTHZ_TOKEN = ""
    response = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": ""})
    assert response.json() == {"ok": True}


@pytest.mark.django_db(transaction=True)
async def test_healthz_details_for_staff_only(no_sandbox_in_this_process):
    from channels.db import database_sync_to_async

    learner = await database_sync_to_async(make_user)("plain-learner")
    staff = await database_sync_to_async(make_user)("site-staff", is_staff=True)
    for user, shown in ((learner, False), (staff, True)):
        client = AsyncClient()
        await client.aforce_login(user)
        body = (await client.get("/healthz")).json()
        assert ("checks" in body) is shown


async def asgi_get(app, path: str, headers: list[tuple[bytes, bytes]] = (), method: str = "GET") -> tuple[int, bytes]:
    """One request through an ASGI app, in this process."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers), "query_string": b""}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


@pytest.mark.django_db
async def test_probes_are_answered_before_django_and_a_session_goes_through_it(settings, no_sandbox_in_this_process):
    """No middleware, signal or request thread between a probe and its checks; a request with a session cookie (a
    staff user asking for details) and anything but GET or HEAD go on to Django."""
    settings.HEALTHZ_TOKEN = "operator-secret"
    passed_on: list[str] = []

    async def django(scope, receive, send) -> None:
        passed_on.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    probes = health.HealthProbes(django)
    assert await asgi_get(probes, "/livez") == (200, b'{"ok": true}')
    assert await asgi_get(probes, "/healthz") == (200, b'{"ok": true}')
    status, body = await asgi_get(probes, "/healthz", [(b"x-healthz-token", b"operator-secret")])
    checks = json.loads(body)["checks"]
    assert status == 200 and set(checks) == set(DETAILS)
    assert checks["database"]["ms"] >= 0 and checks["channel_layer"]["ms"] >= 0  # how long each check took
    assert await asgi_get(probes, "/healthz", method="HEAD") == (200, b"")
    assert passed_on == []
    await asgi_get(probes, "/healthz", [(b"cookie", b"sessionid=abc; theme=dark")])
    await asgi_get(probes, "/healthz", method="POST")
    await asgi_get(probes, "/lessons/")
    assert passed_on == ["GET /healthz", "POST /healthz", "GET /lessons/"]


@pytest.mark.django_db
async def test_readiness_does_not_wait_for_the_request_threads(settings, no_sandbox_in_this_process):
    """Django runs sync code (middleware, database queries of views and consumers) in asgiref's thread-sensitive
    executor; with that executor busy, readiness (database included) still answers at once."""
    settings.HEALTHZ_CHECK_SECONDS = 5
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait, thread_sensitive=True)(30))
    try:
        status, body = await asyncio.wait_for(health.answer(show_details=True), 3)
        assert status == 200 and body["checks"]["database"]["ok"] is True, body
    finally:
        release.set()
        await busy


@pytest.mark.django_db
async def test_readiness_keeps_its_database_connection_and_replaces_a_broken_one(no_sandbox_in_this_process):
    """One connection of its own between probes (opening one per probe was most of a probe's time under load); when
    the server drops it (a restart, an administrator), the next probe opens another at once and still answers 200."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the probe connection is PostgreSQL's (SQLite is checked in a thread)")
    assert (await health.check_database())["ok"] is True
    probe = health._probe_connections[asyncio.get_running_loop()]
    assert (await health.check_database())["ok"] is True
    assert health._probe_connections[asyncio.get_running_loop()] is probe, "a new connection for each probe"
    async with await psycopg.AsyncConnection.connect(**health.probe_connection_params(), autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", [probe.info.backend_pid])
    status, body = await health.answer(show_details=True)
    assert status == 200 and body["checks"]["database"]["ok"] is True, body
    assert health._probe_connections[asyncio.get_running_loop()] is not probe
    await health.drop_probe_connection(asyncio.get_running_loop())


def test_liveness_answers_with_the_database_and_redis_unreachable(collected_static, tmp_path):
    """A supervisor that restarts processes on a failed liveness probe must not restart them all because
    PostgreSQL or Redis is down; readiness says not ready and names the cause to the operator."""
    env = shared_server_env(collected_static) | {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "ACADEMY_TEST_CHANNEL_LAYER": "redis",
        "HEALTHZ_CHECK_SECONDS": "1",
    }
    server = DaphneServer(env, tmp_path / "daphne.log", probe="/livez")
    try:
        assert get(server.url + "/livez") == (200, {"ok": True})
        assert get(server.url + "/healthz") == (503, {"ok": False})
        checks = health_details(server.url)["checks"]
        assert checks["database"]["ok"] is False
        assert checks["channel_layer"]["ok"] is False
    finally:
        server.stop()


@pytest.mark.django_db
async def test_readiness_does_not_wait_behind_the_process_receive_loop(redis_url, settings, monkeypatch):
    """channels-redis receives every process-local channel of a process through one receive lock, held by whichever
    consumer's receive is in BZPOPMIN. A ping through a new_channel() of the process needed that lock, so it measured
    the consumers' receive loops, not Redis; the PING on the layer's pool does not take it."""
    settings.HEALTHZ_CHECK_SECONDS = 1
    layer = QuietRedisChannelLayer(hosts=[redis_url], prefix=f"health-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(health, "get_channel_layer", lambda: layer)
    # What an open socket's receive loop holds while it waits on Redis, held here for longer than the check waits.
    layer.receive_count, layer.receive_lock = 1, asyncio.Lock()
    layer.receive_event_loop = asyncio.get_running_loop()
    await layer.receive_lock.acquire()
    try:
        check = await asyncio.wait_for(health.check_channel_layer(), 5)
        assert check["ok"] is True, check
    finally:
        layer.receive_lock.release()
        layer.receive_count, layer.receive_lock, layer.receive_event_loop = 0, None, None
        await layer.flush()
        await layer.close_pools()


@pytest.mark.django_db(transaction=True)
def test_readiness_stays_200_with_200_playground_sockets_open(redis_url, collected_static, tmp_path):
    """200 signed-in page sockets on one Daphne over Redis; readiness answers 200 every time (latency: bench/)."""
    env = shared_server_env(
        collected_static, REDIS_URL=redis_url.rsplit("/", 1)[0] + "/11", ACADEMY_TEST_CHANNEL_LAYER="redis"
    )
    server = DaphneServer(env, tmp_path / "daphne.log")
    cookies = [dict(session_headers(make_user(f"prober{n}")))[b"cookie"].decode() for n in range(200)]

    async def probe_with_sockets_open() -> list[tuple[int, dict]]:
        sockets = [
            await ws_connect(
                server.ws_url + "/ws/playground/", origin=server.url, additional_headers={"Cookie": cookie}
            )
            for cookie in cookies
        ]
        try:
            answers = []
            for _ in range(20):
                answers.append(await asyncio.to_thread(get, server.url + "/healthz"))
                await asyncio.sleep(0.2)  # a load balancer's probe interval, compressed
            assert all(socket.close_code is None for socket in sockets)
            return answers
        finally:
            await asyncio.gather(*(socket.close() for socket in sockets))

    try:
        answers = asyncio.run(probe_with_sockets_open())
        assert answers == [(200, {"ok": True})] * 20
        assert (
            health_details(server.url, HEALTHZ_TOKEN)["checks"]["channel_layer"]["backend"] == "QuietRedisChannelLayer"
        )
    finally:
        server.stop()
