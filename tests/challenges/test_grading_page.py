"""Run tests through the page against real sandboxes: a wrong solution's failed tests keep their runs, opened where
they went wrong; the cohort's feed hears of it; a passing grading replaces the kept runs. And the trace cap's edge."""

from __future__ import annotations

import pytest

from challenges.grader import TestResult
from challenges.loader import get_challenges
from challenges.models import GradingRun, Submission
from challenges.runs import keep_run
from dashboards.models import ActivityItem
from tests.factories import make_cohort, make_user

SLUG = "shout-echo"


@pytest.mark.django_db(transaction=True)
def test_a_wrong_then_right_solution_graded_through_the_page(client, settings):
    # The test client runs each request of an async view in its own event loop: no warm pool left behind in one.
    settings.PLAYGROUND_POOL_SIZE = 0
    learner = make_user("ada")
    cohort = make_cohort(learners=[learner])
    challenge = get_challenges().get(SLUG)
    unchanged = next(wrong for wrong in challenge.known_wrong if wrong.file == "unchanged.py")
    client.force_login(learner)

    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": unchanged.code}, HTTP_X_CHALLENGE_FRAGMENT="1")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-test="shouts a word back"' in page and 'data-passed="false"' in page
    submission = Submission.objects.get(learner=learner)
    assert submission.passed is False and submission.code == unchanged.code
    failed = [position for position, result in enumerate(submission.results) if not result["passed"]]
    runs = {run.position: run for run in GradingRun.objects.filter(submission=submission)}
    assert sorted(runs) == failed and failed
    shout = runs[[r["test"] for r in submission.results].index("shouts a word back")]
    wrong_row = shout.events[shout.first_wrong_step]
    assert wrong_row["kind"] == "send" and "'hello'" in wrong_row["action"]  # the frame that should have been HELLO
    assert f"/challenges/runs/{shout.pk}/" in page
    item = ActivityItem.objects.get(cohort=cohort, kind="challenge_graded")
    assert item.text.startswith(f"ada ran the tests of “{challenge.title}”: {submission.passed_tests} of")
    assert client.get(f"/challenges/runs/{shout.pk}/").status_code == 200

    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": challenge.solution})
    assert response.status_code == 302 and response["Location"] == f"/challenges/{SLUG}/#results"
    latest = Submission.objects.filter(learner=learner).latest("started_at")
    assert latest.passed is True and latest.seconds and latest.seconds > 0
    assert not GradingRun.objects.exists()  # only the latest grading's runs are kept, and it has none
    assert client.get(f"/challenges/runs/{shout.pk}/").status_code == 404
    assert "passed all" in ActivityItem.objects.filter(kind="challenge_graded").latest("id").text


def result_with_rows(count: int, first_wrong: int) -> TestResult:
    events = [{"type": "trace", "step": n, "kind": "receive", "client": "ann"} for n in range(1, count + 1)]
    events.append({"type": "exit", "reason": "stopped"})
    return TestResult("t", False, False, "why", None, None, 0.1, first_wrong, events)


def test_the_trace_kept_for_the_step_through_stops_at_its_cap():
    kept = keep_run(result_with_rows(3, 3), max_rows=3)
    assert len(kept.rows) == 3 and not kept.truncated and kept.first_wrong_row == 2
    assert kept.rows[0] == {"step": 1, "kind": "receive", "client": "ann"}  # stored as a playground Run stores rows
    kept = keep_run(result_with_rows(4, 4), max_rows=3)
    assert len(kept.rows) == 3 and kept.truncated and kept.first_wrong_row == 2  # beyond the cap: the last row kept


HOARDER = """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.hoard = bytearray(1024 * 1024 * 1024)


websocket_urlpatterns = [path("ws/shout/", ShoutConsumer.as_asgi())]
"""


@pytest.mark.django_db(transaction=True)
def test_a_test_whose_run_hits_a_sandbox_limit_fails_with_the_limit_named_on_the_page(client, settings):
    settings.PLAYGROUND_POOL_SIZE = 0
    client.force_login(make_user())
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": HOARDER}, HTTP_X_CHALLENGE_FRAGMENT="1")
    assert response.status_code == 200
    submission = Submission.objects.get()
    shout = next(result for result in submission.results if result["test"] == "shouts a word back")
    assert not shout["passed"] and "it hit the sandbox's memory limit" in shout["reason"]
    assert "it hit the sandbox&#x27;s memory limit" in response.content.decode()
    accepts = next(result for result in submission.results if result["test"] == "accepts the connection")
    assert accepts["passed"]  # only the tests whose run hit the limit fail
