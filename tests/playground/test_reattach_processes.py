"""A reload lands on another Daphne process (nginx picks any): the page there attaches to the run its old page's
process still owns, over Redis, and carries on with it."""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect as ws_connect

from playground.models import Run
from tests.conftest import COMMAND_SECONDS, DaphneServer, shared_server_env
from tests.factories import make_user
from tests.playground.conftest import session_headers, starter_code, unbatch

pytestmark = pytest.mark.django_db(transaction=True)


def read_until(page, predicate) -> dict:
    """Page messages (batches opened) until one matches; a loaded machine may take seconds to start a sandbox."""
    deadline = time.monotonic() + COMMAND_SECONDS
    while True:
        for message in unbatch(json.loads(page.recv(timeout=deadline - time.monotonic()))):
            if predicate(message):
                return message


def test_a_page_reloaded_onto_another_process_attaches_to_the_run_the_first_one_owns(
    redis_url, collected_static, tmp_path
):
    isolated = redis_url.rsplit("/", 1)[0] + "/13"
    env = shared_server_env(
        collected_static, REDIS_URL=isolated, ACADEMY_TEST_CHANNEL_LAYER="redis", PLAYGROUND_REATTACH_SECONDS="60"
    )
    servers = [DaphneServer(env, tmp_path / f"daphne-{name}.log") for name in ("a", "b")]
    try:
        owner, other = servers
        cookie = dict((k.decode(), v.decode()) for k, v in session_headers(make_user("reloads-elsewhere")))["cookie"]

        def open_page(server: DaphneServer):
            return ws_connect(
                server.ws_url + "/ws/playground/", origin=server.url, additional_headers={"Cookie": cookie}
            )

        with open_page(owner) as page:
            page.send(json.dumps({"type": "run", "code": starter_code("echo"), "starter": "echo"}))
            run_id = read_until(page, lambda m: m["type"] == "live")["run"]
            read_until(page, lambda m: m["type"] == "status" and m["state"] == "running")
            page.send(json.dumps({"type": "client.connect", "client": "c1", "path": "/ws/echo/"}))
            read_until(page, lambda m: m["type"] == "consumer.accept")
        # The reload: the old page's socket is closed; the new one is on the other process.

        with open_page(other) as page:
            page.send(json.dumps({"type": "attach", "run": run_id}))
            assert read_until(page, lambda m: m["type"] == "attached")["run"] == run_id
            read_until(page, lambda m: m["type"] == "events")
            page.send(json.dumps({"type": "client.send", "client": "c1", "text": "from process b"}))
            echoed = read_until(page, lambda m: m["type"] == "consumer.send")
            assert echoed == {"type": "consumer.send", "client": "c1", "text": "from process b"}
            page.send(json.dumps({"type": "stop"}))
            stopped = read_until(page, lambda m: m["type"] == "status" and m["state"] == "stopped")
            assert stopped["replay"] == f"/playground/runs/{run_id}/"
        assert Run.objects.get(pk=run_id).end_reason == Run.EndReason.STOPPED
        assert "Traceback" not in owner.log_text() + other.log_text()
    finally:
        for server in servers:
            server.stop()
