"""Predictions over HTTP: questions without answers, answers graded on the server, the first one per step recorded
for a signed-in learner and announced to the cohort, forged steps and answers refused, limits at their edge."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from dashboards.models import ActivityItem
from lessons.catalogue import get_catalogue
from playground.models import Run
from predictions.content import stops_for
from predictions.models import Prediction
from tests.factories import make_cohort, make_user

pytestmark = pytest.mark.django_db
TOPIC = "consumer-lifecycle"
STOPS = f"/predict/topics/{TOPIC}/"


def step_url(step: int) -> str:
    return f"{STOPS}steps/{step}/"


def first_stop():
    return next(stop for stop in stops_for(get_catalogue().get(TOPIC).trace.name) if stop.answer_form == "choice")


def right_and_wrong(client: Client, step: int) -> tuple[str, str]:
    """The real answer, read from the trace the way the server reads it, and an offered wrong one."""
    from predictions.services import topic_source

    question = topic_source(TOPIC).question(step)
    offered = client.get(step_url(step)).json()["choices"]
    return question.answer, next(choice for choice in offered if choice != question.answer)


def make_run(learner, *, running: bool = False) -> Run:
    events = list(get_catalogue().get(TOPIC).trace.events)
    now = timezone.now()
    return Run.objects.create(
        learner=learner, code="x = 1", started_at=now, ended_at=None if running else now, events=events
    )


def test_the_stops_list_and_a_question_never_carry_the_answer(client):
    stop = first_stop()
    listed = client.get(STOPS).json()
    assert listed["stops"] == [stop.step for stop in stops_for(get_catalogue().get(TOPIC).trace.name)]
    assert listed["every_step"] is False and listed["recording"] is False and listed["score"] is None
    question = client.get(step_url(stop.step)).json()
    assert set(question) == {"step", "ask", "prompt", "choices"}
    assert question["step"] == stop.step and len(question["choices"]) >= 2


def test_a_learners_right_and_wrong_answers_are_graded_recorded_and_scored(client):
    learner = make_user("ana")
    client.force_login(learner)
    stops = stops_for(get_catalogue().get(TOPIC).trace.name)
    choice_stops = [stop for stop in stops if stop.answer_form == "choice"]
    right, _ = right_and_wrong(client, choice_stops[0].step)
    _, wrong = right_and_wrong(client, choice_stops[1].step)
    first = client.post(step_url(choice_stops[0].step), {"answer": right}).json()
    assert first["correct"] is True and first["recorded"] is True and first["expected"] == right
    assert first["step"]["step"] == choice_stops[0].step and first["step"]["action"]
    second = client.post(step_url(choice_stops[1].step), {"answer": wrong}).json()
    assert second["correct"] is False and second["expected"] != wrong
    assert second["score"] == {"answered": 2, "right": 1, "stops": len(stops)}
    rows = Prediction.objects.filter(user=learner).order_by("step")
    assert [(row.topic, row.step, row.correct, row.answer) for row in rows] == [
        (TOPIC, choice_stops[0].step, True, right),
        (TOPIC, choice_stops[1].step, False, wrong),
    ]
    assert client.get(STOPS).json()["score"] == {"answered": 2, "right": 1, "stops": len(stops)}
    outline = client.get("/lessons/").text
    assert f"Predictions 1 of {len(stops)} right" in outline


def test_the_first_answer_per_step_stays_scored(client):
    learner = make_user("ana")
    client.force_login(learner)
    step = first_stop().step
    right, wrong = right_and_wrong(client, step)
    client.post(step_url(step), {"answer": wrong})
    again = client.post(step_url(step), {"answer": right}).json()
    assert again["correct"] is True and again["recorded"] is False
    assert again["first"] == {"answer": wrong, "correct": False}
    assert Prediction.objects.get(user=learner, step=step).correct is False


def test_a_visitor_is_graded_but_not_recorded(client):
    step = first_stop().step
    right, _ = right_and_wrong(client, step)
    answer = client.post(step_url(step), {"answer": right}).json()
    assert answer["correct"] is True and answer["recorded"] is False and answer["score"] is None
    assert not Prediction.objects.exists()


@pytest.mark.parametrize(
    ("url", "data", "status", "message"),
    [
        (step_url(1), {"answer": "Accepted"}, 404, "Step 1 has no prediction to make."),
        (step_url(99), {"answer": "Accepted"}, 404, "Step 99 has no prediction to make."),
        ("/predict/topics/no-such-topic/steps/2/", {"answer": "x"}, 404, "This topic has no step-by-step execution"),
        (None, {"answer": "<script>alert(1)</script>"}, 400, "Pick one of the offered answers."),
        (None, {}, 400, "Pick one of the offered answers."),
    ],
)
def test_a_forged_step_or_answer_is_refused_and_changes_nothing(client, url, data, status, message):
    client.force_login(make_user("ana"))
    response = client.post(url or step_url(first_stop().step), data)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)
    assert not Prediction.objects.exists()


def test_a_short_answer_over_the_limit_is_refused_at_its_edge(client, settings):
    settings.PREDICT_ANSWER_MAX_CHARS = 10
    client.force_login(make_user("ana"))
    short = next(stop for stop in stops_for(get_catalogue().get(TOPIC).trace.name) if stop.answer_form == "short")
    refused = client.post(step_url(short.step), {"answer": "1" * 11})
    assert refused.status_code == 400 and refused.json()["error"] == "Answer in at most 10 characters."
    assert not Prediction.objects.exists()
    accepted = client.post(step_url(short.step), {"answer": "1" * 10})
    assert accepted.status_code == 200 and accepted.json()["correct"] is False


def test_answers_are_rate_limited_per_learner_at_the_setting(client, settings):
    settings.PREDICT_ANSWERS_PER_MINUTE = 2
    client.force_login(make_user("rushed"))
    step = first_stop().step
    right, _ = right_and_wrong(client, step)
    assert [client.post(step_url(step), {"answer": right}).status_code for _ in range(3)] == [200, 200, 429]
    assert "At most 2 predictions a minute" in client.post(step_url(step), {"answer": right}).json()["error"]


def test_answering_needs_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("ana"))
    step = first_stop().step
    assert client.post(step_url(step), {"answer": "x"}).status_code == 403
    assert not Prediction.objects.exists()


def test_a_learner_predicts_every_step_of_their_own_ended_run(client):
    learner = make_user("ana")
    run = make_run(learner)
    client.force_login(learner)
    listed = client.get(f"/predict/runs/{run.pk}/").json()
    assert listed["every_step"] is True and listed["score"] == {"answered": 0, "right": 0, "stops": 4}
    question = client.get(f"/predict/runs/{run.pk}/steps/3/").json()
    assert question["ask"] == "handler" and "receive() of c1's consumer" in question["choices"]
    answer = client.post(f"/predict/runs/{run.pk}/steps/3/", {"answer": "receive() of c1's consumer"}).json()
    assert answer["correct"] is True and answer["recorded"] is True
    assert Prediction.objects.get().run == run
    assert client.get(f"/predict/runs/{run.pk}/steps/1/").status_code == 404  # nothing comes before the first step


def test_a_run_is_predicted_only_by_who_may_open_its_replay(client):
    owner, stranger = make_user("ana"), make_user("eve")
    run = make_run(owner)
    client.force_login(stranger)
    assert client.get(f"/predict/runs/{run.pk}/steps/3/").status_code == 404
    assert client.post(f"/predict/runs/{run.pk}/steps/3/", {"answer": "x"}).status_code == 404
    shared = client.post(
        f"/predict/runs/{run.pk}/steps/3/", {"answer": "receive() of c1's consumer", "share": run.share_token}
    )
    assert shared.status_code == 200 and shared.json()["correct"] is True
    visitor = Client()
    assert visitor.get(f"/predict/runs/{run.pk}/?share={run.share_token}").json()["recording"] is False
    assert visitor.get(f"/predict/runs/{run.pk}/?share=wrong").status_code == 404


def test_a_running_run_is_not_predicted_yet(client):
    learner = make_user("ana")
    run = make_run(learner, running=True)
    client.force_login(learner)
    response = client.get(f"/predict/runs/{run.pk}/steps/3/")
    assert response.status_code == 409 and "once it has ended" in response.json()["error"]


def test_the_instructor_sees_the_prediction_in_the_feed_and_the_drill_down(client, django_capture_on_commit_callbacks):
    instructor, learner = make_user("lead", instructor=True), make_user("ana")
    cohort = make_cohort(instructor, learners=[learner])
    client.force_login(learner)
    step = first_stop().step
    _, wrong = right_and_wrong(client, step)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(step_url(step), {"answer": wrong})
    topic = get_catalogue().get(TOPIC)
    item = ActivityItem.objects.get(cohort=cohort, kind="prediction")
    assert item.text == f"ana predicted step {step} of {topic.number}. {topic.title} (wrong)"
    client.force_login(instructor)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/").text
    assert 'data-testid="predictions"' in page and f"<td>{topic.title}</td><td>1</td><td>0</td>" in page
