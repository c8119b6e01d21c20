"""Redis stops, or comes back empty, while learners and instructors are connected (issue #9, faults)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from config.layer import CLOSE_LAYER_UNAVAILABLE
from dashboards.announce import cohort_group
from playground.models import Run
from quizzes.models import Answer
from tests.factories import make_cohort, make_user
from tests.playground.conftest import run_starter_until_live, session_headers
from tests.support.quiz_http import QuizLearner

pytestmark = pytest.mark.django_db(transaction=True)

# Outer bounds, not goals: a socket never closed or delivery never back is the failure these tests catch. They are
# far above the few seconds seen on a quiet machine so that a busy CI machine cannot fail them.
CLOSE_WITHIN_SECONDS = 60  # every socket is closed after Redis stops
BACK_WITHIN_SECONDS = 120  # group delivery works again after Redis comes back empty


def session_key(user) -> str:
    cookie = dict(session_headers(user))[b"cookie"].decode()
    return cookie.split("=", 1)[1]


def open_socket(server, path: str, user=None):
    headers = {"Cookie": f"sessionid={session_key(user)}"} if user else {}
    return ws_connect(server.ws_url + path, origin=server.url, additional_headers=headers, open_timeout=10)


def close_code(socket, deadline: float) -> int | None:
    """Read (and drop) messages until the server closes the socket; its close code, or None if still open."""
    try:
        while True:
            socket.recv(timeout=max(0.01, deadline - time.monotonic()))
    except ConnectionClosed:
        return socket.close_code
    except TimeoutError:
        return None


def next_json(socket, timeout: float) -> dict:
    return json.loads(socket.recv(timeout=timeout))


def layer_for(redis_url: str) -> RedisChannelLayer:
    """The test process's view of the servers' channel layer: same Redis, prefix and capacity. (channels-redis's
    default capacity of 100 made group_send drop a message for a whole process that fell 0.5 s behind.)"""
    capacity = int(os.environ.get("CHANNEL_LAYER_CAPACITY", "1000"))  # what config.settings gives the servers
    return RedisChannelLayer(hosts=[redis_url], prefix=f"asgi-test-{settings.TEST_RUN_ID}", capacity=capacity)


def test_stopping_redis_closes_every_socket_with_a_retryable_code_and_loses_no_record(own_redis, redis_servers):
    (server,) = redis_servers()
    learner, instructor = make_user("ada"), make_user("prof", instructor=True)
    cohort = make_cohort(instructor, learners=[learner])
    quiz = QuizLearner(server.url, session_key(learner))
    attempt_id, questions = quiz.start("consumer-lifecycle")
    assert quiz.answer(attempt_id, *questions[0]) == 200

    dashboards = [open_socket(server, f"/ws/cohorts/{cohort.pk}/", instructor) for _ in range(3)]
    page = open_socket(server, "/ws/playground/", learner)
    live_url = run_starter_until_live(page, "echo", timeout=20)
    live = ws_connect(live_url + "ws/echo/", open_timeout=10)
    live.send("before the outage")
    assert live.recv(timeout=10) == "before the outage"
    run = Run.objects.get(learner=learner)
    watcher = open_socket(server, f"/ws/runs/{run.pk}/watch/", instructor)
    sockets = {
        "page": page,
        "live client": live,
        "watcher": watcher,
        **{f"dashboard {n}": d for n, d in enumerate(dashboards)},
    }

    own_redis.stop()
    stopped = time.monotonic()
    deadline = stopped + CLOSE_WITHIN_SECONDS
    codes = {name: close_code(socket, deadline) for name, socket in sockets.items()}
    assert codes == dict.fromkeys(sockets, CLOSE_LAYER_UNAVAILABLE), codes

    # Answers do not need Redis: one given during the outage is saved like any other.
    assert quiz.answer(attempt_id, *questions[1]) == 200
    assert Answer.objects.filter(attempt_id=attempt_id).count() == 2
    # The run was recorded as it ended: interrupted, with its trace.
    run.refresh_from_db()
    assert run.end_reason == Run.EndReason.INTERRUPTED and run.ended_at is not None
    assert run.event_count > 0 and run.events[0]["kind"] == "connect"

    own_redis.start()
    with open_socket(server, f"/ws/cohorts/{cohort.pk}/", instructor) as dashboard:
        with open_socket(server, "/ws/playground/", learner) as again:
            run_starter_until_live(again, "echo", timeout=20)
            assert next_json(dashboard, 10)["kind"] == "run_started"
    log = server.log_text()
    assert "Traceback" not in log and "Exception inside application" not in log


def test_redis_restarted_empty_delivers_group_messages_again_without_a_server_restart(own_redis, redis_servers):
    (server,) = redis_servers()
    instructor = make_user("prof", instructor=True)
    cohort = make_cohort(instructor)
    layer = layer_for(own_redis.url)

    def announce(marker: int) -> None:
        asyncio.run(
            layer.group_send(cohort_group(cohort.pk), {"type": "cohort.event", "event": {"kind": "probe", "n": marker}})
        )

    with open_socket(server, f"/ws/cohorts/{cohort.pk}/", instructor) as dashboard:
        announce(0)
        assert next_json(dashboard, 10) == {"kind": "probe", "n": 0}
        # Emptied under the server's feet: no connection breaks, so no socket notices; only re-joining helps.
        own_redis.client().flushall()
        deadline = time.monotonic() + BACK_WITHIN_SECONDS
        received, marker = None, 0
        while received is None and time.monotonic() < deadline:
            marker += 1
            announce(marker)
            try:
                received = next_json(dashboard, 1)
            except TimeoutError:
                continue
        assert received is not None, f"no group message arrived within {BACK_WITHIN_SECONDS} s of Redis emptying"
        assert received["kind"] == "probe"
