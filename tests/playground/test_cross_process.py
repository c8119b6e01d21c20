"""With Redis, a live client on one Daphne process reaches a sandbox owned by another."""

from __future__ import annotations

import json
import urllib.request

import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import DaphneServer, shared_server_env
from tests.factories import make_user
from tests.playground.conftest import run_starter_until_live, session_headers

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


def test_live_client_on_process_b_talks_to_sandbox_owned_by_process_a(two_servers):
    owner, other = two_servers
    for server in two_servers:
        with urllib.request.urlopen(server.url + "/healthz", timeout=30) as response:
            assert json.load(response)["checks"]["channel_layer"]["backend"] == "RedisChannelLayer"
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
