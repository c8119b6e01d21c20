"""In workers mode a runworker is killed mid-run: its sandbox dies with it and the page is told the run was interrupted."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from playground.models import Run
from tests.factories import make_user
from tests.faults.test_redis_faults import open_socket
from tests.playground.conftest import run_starter_until_live
from tests.support.page_protocol import unbatch
from tests.support.processes import RunWorker, alive, descendants

pytestmark = pytest.mark.django_db(transaction=True)

HEARTBEAT_SECONDS = 1
TOLD_WITHIN_SECONDS = 120  # an outer bound only: the page is waiting for a message, not timing it


def test_killing_a_runworker_tells_the_page_its_run_was_interrupted(own_redis, redis_servers, tmp_path):
    (server,) = redis_servers(PLAYGROUND_EXECUTION="workers", PLAYGROUND_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS))
    worker_env = {**server.env, "PLAYGROUND_POOL_SIZE": "0"}
    worker = RunWorker(worker_env, tmp_path / "runworker.log")
    try:
        learner = make_user("ada")
        with open_socket(server, "/ws/playground/", learner) as page:
            run_starter_until_live(page, "echo", timeout=30)
            sandbox_pids = descendants(worker.proc.pid)
            assert sandbox_pids, "the run's sandbox should be below the runworker"
            os.kill(worker.proc.pid, signal.SIGKILL)
            # Told after three silent beats and the page's next check; a busy machine may take longer, so the
            # test waits for the message (how soon it comes is the heartbeat setting's job, not this test's).
            deadline = time.monotonic() + TOLD_WITHIN_SECONDS
            stopped = None
            while stopped is None:
                for message in unbatch(json.loads(page.recv(timeout=max(0.1, deadline - time.monotonic())))):
                    if message["type"] == "status" and message["state"] == "stopped":
                        stopped = message
            assert stopped["reason"] == "the server process running it stopped"
        assert not [pid for pid in sandbox_pids if alive(pid)], "the sandbox outlived its worker"
        assert Run.objects.get(learner=learner).end_reason == Run.EndReason.INTERRUPTED
    finally:
        worker.stop()
