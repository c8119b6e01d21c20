"""A Daphne process is killed mid-run: its sandboxes die with it, its runs end as interrupted, learners go on elsewhere."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from websockets.sync.client import connect as ws_connect

from playground.models import Run
from quizzes.models import Attempt
from tests.factories import make_user
from tests.faults.test_redis_faults import close_code, open_socket, session_key
from tests.playground.conftest import run_starter_until_live
from tests.support.processes import alive, descendants
from tests.support.quiz_http import QuizLearner

pytestmark = pytest.mark.django_db(transaction=True)

HEARTBEAT_SECONDS = 1  # the servers' PLAYGROUND_HEARTBEAT_SECONDS here; a run silent for three beats is interrupted


def keep_answering(server, learner, stop: threading.Event) -> None:
    """Attempts started, answered and finished in a loop until the server goes away under them."""
    quiz = QuizLearner(server.url, session_key(learner))
    try:
        while not stop.is_set():
            attempt_id, questions = quiz.start("consumer-lifecycle")
            for question, choice in questions:
                quiz.answer(attempt_id, question, choice)
            quiz.finish(attempt_id)
    except OSError:
        return  # the server was killed mid-request


def test_killing_a_daphne_interrupts_its_runs_and_leaves_no_half_written_attempt(redis_servers):
    doomed, survivor = redis_servers(2, PLAYGROUND_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS))
    learner = make_user("ada")
    page = open_socket(doomed, "/ws/playground/", learner)
    run_starter_until_live(page, "echo", timeout=20)
    run = Run.objects.get(learner=learner)
    sandbox_pids = descendants(doomed.proc.pid)
    assert sandbox_pids, "the run's sandbox should be a child of the server that owns it"

    stop = threading.Event()
    answering = threading.Thread(target=keep_answering, args=(doomed, learner, stop))
    answering.start()
    deadline = time.monotonic() + 60  # some attempts finished (one is likely in flight): then kill
    while not Attempt.objects.filter(user=learner, finished_at__isnull=False).exists():
        assert time.monotonic() < deadline and answering.is_alive(), "no attempt finished before the kill"
        time.sleep(0.05)
    os.kill(doomed.proc.pid, signal.SIGKILL)
    stop.set()
    answering.join(30)
    doomed.proc.wait(10)

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in sandbox_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in sandbox_pids if alive(pid)], "sandboxes outlived their server"
    assert close_code(page, time.monotonic() + 5) == 1006  # the connection dropped without a close frame

    # The learner reconnects to the other process and runs again; the dead process's run is no longer "running".
    with open_socket(survivor, "/ws/playground/", learner) as again:
        run_starter_until_live(again, "echo", timeout=20)
        deadline = time.monotonic() + 6 * HEARTBEAT_SECONDS + 5
        while Run.objects.get(pk=run.pk).ended_at is None and time.monotonic() < deadline:
            time.sleep(0.2)
    run.refresh_from_db()
    assert run.end_reason == Run.EndReason.INTERRUPTED, (run.end_reason, run.end_detail)

    attempts = list(Attempt.objects.filter(user=learner).prefetch_related("answers"))
    assert attempts, "the learner answered before the kill"
    for attempt in attempts:
        graded = (attempt.score_percent, attempt.correct_count, attempt.passed)
        if attempt.finished_at is None:
            assert graded == (None, None, None), f"attempt {attempt.pk} is graded but not finished"
        else:
            assert None not in graded, f"attempt {attempt.pk} is finished but not fully graded: {graded}"
            assert attempt.correct_count == sum(answer.correct for answer in attempt.answers.all())


def test_a_live_client_of_a_killed_owner_is_closed_and_the_run_is_swept_without_a_new_run(redis_servers):
    """The live client sits on the surviving process; the run's owner (and sandbox) die with the other. The client gets
    4012 (its proxy stops hearing the owner's beat), and the survivor's periodic sweep marks the run interrupted though
    nobody starts a run anywhere."""
    from playground.live import CLOSE_RUN_LOST

    doomed, survivor = redis_servers(2, PLAYGROUND_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS))
    learner, bystander = make_user("owner-dies"), make_user("bystander")
    page = open_socket(doomed, "/ws/playground/", learner)
    live_url = run_starter_until_live(page, "echo", timeout=20)
    run = Run.objects.get(learner=learner)
    token_path = live_url.split("/ws/live/", 1)[1]
    with (
        open_socket(survivor, "/ws/playground/", bystander),  # an open page on the survivor, no run
        ws_connect(f"{survivor.ws_url}/ws/live/{token_path}ws/echo/", open_timeout=15) as external,
    ):
        external.send("before")
        assert external.recv(timeout=15) == "before"
        os.killpg(doomed.proc.pid, signal.SIGKILL)
        doomed.proc.wait(10)
        assert close_code(external, time.monotonic() + 30) == CLOSE_RUN_LOST

        deadline = time.monotonic() + 60
        while Run.objects.get(pk=run.pk).ended_at is None and time.monotonic() < deadline:
            time.sleep(0.2)
    run.refresh_from_db()
    assert run.end_reason == Run.EndReason.INTERRUPTED, (run.end_reason, run.end_detail)
    assert not Run.objects.filter(learner=bystander).exists()
    assert "Traceback" not in survivor.log_text()
