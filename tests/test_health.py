"""Health endpoints (issue 19 item 10, issue 20 item 1): public ok / not ok, details for staff or a token, a liveness
URL that touches nothing, and a readiness check that does not wait behind the consumers' receive loop."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import pytest
from django.test import AsyncClient
from websockets.asyncio.client import connect as ws_connect

from config import health
from config.layer import QuietRedisChannelLayer
from tests.conftest import HEALTHZ_TOKEN, DaphneServer, health_details, shared_server_env
from tests.factories import make_user
from tests.playground.conftest import session_headers

DETAILS = ("database", "channel_layer", "sandbox")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.django_db
async def test_public_healthz_says_only_ok():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    for secret in ("vendor", "InMemoryChannelLayer", "mode", "sqlite", "postgresql"):
        assert secret not in response.text


@pytest.mark.django_db
async def test_healthz_details_need_the_token_and_it_must_match(settings):
    settings.HEALTHZ_TOKEN = "operator-secret"
    right = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": "operator-secret"})
    assert set(right.json()["checks"]) == set(DETAILS)
    for wrong in ("operator-secreT", "operator-secret-and-more", ""):
        response = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": wrong})
        assert response.json() == {"ok": True}


@pytest.mark.django_db
async def test_without_a_token_setting_no_header_opens_the_details(settings):
    settings.HEALTHZ_TOKEN = ""
    response = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": ""})
    assert response.json() == {"ok": True}


@pytest.mark.django_db(transaction=True)
async def test_healthz_details_for_staff_only():
    from channels.db import database_sync_to_async

    learner = await database_sync_to_async(make_user)("plain-learner")
    staff = await database_sync_to_async(make_user)("site-staff", is_staff=True)
    for user, shown in ((learner, False), (staff, True)):
        client = AsyncClient()
        await client.aforce_login(user)
        body = (await client.get("/healthz")).json()
        assert ("checks" in body) is shown


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
