"""The cohort feed: joins, hints, lesson reads, run errors and flag changes are stored, sent live and survive a reload."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import RequestFactory
from django.utils import timezone

from activity import aannounce
from cohorts.models import Membership
from dashboards import feed
from dashboards.feed import learner_row
from dashboards.models import ActivityItem
from dashboards.services import join_cohort, leave_cohort
from lessons.catalogue import get_catalogue
from lessons.learner_progress import load_progress, record_visit
from predictions.models import Prediction
from predictions.questions import ASKS
from quizzes.services import finish_attempt, reveal_hint, submit_answer
from tests.dashboards.test_live import open_socket
from tests.factories import make_attempt, make_cohort, make_user, wrong_key

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def setup_cohort(learners=("kid",)):
    instructor = make_user("lead", instructor=True)
    members = [make_user(name) for name in learners]
    return instructor, members, make_cohort(instructor, learners=members)


def read_lesson(user, slug: str, mode: str) -> None:
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    record_visit(request, get_catalogue().get(slug), mode, chosen=True, progress=load_progress(request))


async def test_joining_sends_the_new_learners_row_and_the_new_count():
    instructor, _, cohort = await setup_cohort(learners=())
    communicator, (connected, _) = await open_socket(instructor, cohort.pk)
    assert connected
    newcomer = await database_sync_to_async(make_user)("newcomer")
    await database_sync_to_async(join_cohort)(newcomer, cohort.join_code)
    event = await communicator.receive_json_from(timeout=5)
    assert event["kind"] == "joined" and event["username"] == "newcomer" and event["learners"] == 1
    assert 'data-topic="groups"' in event["row"]["cells_html"]
    assert [item["text"] for item in event["items"]] == ["newcomer joined the cohort"]
    await database_sync_to_async(join_cohort)(newcomer, cohort.join_code)  # joining again is not news
    assert await communicator.receive_nothing(timeout=0.5)
    await database_sync_to_async(leave_cohort)(newcomer, cohort.pk)
    left = await communicator.receive_json_from(timeout=5)
    assert left["kind"] == "left" and left["learners"] == 0 and "row" not in left
    await communicator.disconnect()


async def test_hints_and_lesson_reads_update_the_learners_cells_live():
    instructor, (kid,), cohort = await setup_cohort()
    communicator, _ = await open_socket(instructor, cohort.pk)
    topic = get_catalogue().get("groups")
    mode = topic.mode_keys[0]
    await database_sync_to_async(read_lesson)(kid, "groups", mode)
    read = await communicator.receive_json_from(timeout=5)
    assert read["kind"] == "lesson_read" and read["topic"] == "groups"
    assert f'<td data-topic="groups">1/{len(topic.modes)}' in read["row"]["cells_html"]
    assert read["items"][0]["text"] == f"kid read {topic.number}. {topic.title} ({mode})"

    attempt = await database_sync_to_async(make_attempt)(kid, "groups", mode="practice")
    qid = attempt.question_ids[0]
    await database_sync_to_async(reveal_hint)(attempt, qid)
    hint = await communicator.receive_json_from(timeout=5)
    assert hint["kind"] == "hint" and hint["items"][0]["text"] == f"kid opened hint 1 of {qid}"
    assert '<span title="hints used">1h</span>' in hint["row"]["cells_html"]
    await communicator.disconnect()


async def test_a_runtime_error_in_a_run_is_stored_and_sent():
    instructor, (kid,), cohort = await setup_cohort()
    communicator, _ = await open_socket(instructor, cohort.pk)
    await aannounce(kid, "run_error", run_id=5, message="ZeroDivisionError: division by zero")
    event = await communicator.receive_json_from(timeout=5)
    assert event["items"][0]["text"] == "kid's code raised: ZeroDivisionError: division by zero"
    stored = await database_sync_to_async(lambda: list(ActivityItem.objects.values_list("cohort_id", "text")))()
    assert (cohort.pk, "kid's code raised: ZeroDivisionError: division by zero") in stored
    await communicator.disconnect()


def fail_quiz(user) -> None:
    attempt = make_attempt(user, "groups", seed=3)
    submit_answer(attempt, attempt.question_ids[0], [wrong_key(attempt.question_ids[0])])
    finish_attempt(attempt)


async def test_a_learner_who_starts_to_look_stuck_gets_a_flags_item(settings):
    settings.DASHBOARD_STUCK_FAILED_ATTEMPTS = 2
    instructor, (kid,), cohort = await setup_cohort()
    communicator, _ = await open_socket(instructor, cohort.pk)
    await database_sync_to_async(fail_quiz)(kid)
    texts = []
    while "attempt_finished" not in [event.get("kind") for event in texts]:
        texts.append(await communicator.receive_json_from(timeout=5))
    assert all(item["kind"] != "flags" for event in texts for item in event["items"])  # one failure: not stuck yet
    await database_sync_to_async(fail_quiz)(kid)
    while True:
        event = await communicator.receive_json_from(timeout=5)
        if event["kind"] == "attempt_finished":
            break
    assert event["row"]["flags"] == ["2 failed quiz attempts on Groups and broadcast"]
    assert [item["text"] for item in event["items"]] == [
        "kid finished the 9. Groups and broadcast quiz: 0%",
        "kid now looks stuck: 2 failed quiz attempts on Groups and broadcast",
    ]
    await communicator.disconnect()


def test_the_cohort_page_shows_the_stored_feed_escaped(client):
    instructor = make_user("lead", instructor=True)
    sneaky = make_user("<b>bold</b>")
    cohort = make_cohort(instructor)
    join_cohort(sneaky, cohort.join_code)
    client.force_login(instructor)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/").text
    item = ActivityItem.objects.get()
    assert f'data-item="{item.pk}"' in page
    assert "&lt;b&gt;bold&lt;/b&gt; joined the cohort" in page and "<b>bold</b>" not in page


def test_items_past_the_retention_are_pruned_on_the_next_write(settings):
    settings.DASHBOARD_FEED_RETENTION_HOURS = 2
    cohort = make_cohort(make_user("lead", instructor=True))
    kid = make_user("kid")
    now = timezone.now()
    kept = ActivityItem.objects.create(
        cohort=cohort, kind="x", text="just inside", created_at=now - timedelta(hours=2) + timedelta(minutes=1)
    )
    ActivityItem.objects.create(
        cohort=cohort, kind="x", text="just outside", created_at=now - timedelta(hours=2, minutes=1)
    )
    join_cohort(kid, cohort.join_code)
    assert list(ActivityItem.objects.order_by("pk").values_list("text", flat=True)) == [
        kept.text,
        "kid joined the cohort",
    ]


def test_the_feed_is_paged_back_to_the_retention(client, settings):
    settings.DASHBOARD_FEED_PAGE_SIZE = 2
    instructor = make_user("lead", instructor=True)
    cohort = make_cohort(instructor)
    items = [ActivityItem.objects.create(cohort=cohort, kind="x", text=f"item {n}") for n in range(5)]
    client.force_login(instructor)
    first = client.get(f"/dashboard/cohorts/{cohort.pk}/")
    assert [item.text for item in first.context["feed_items"]] == ["item 4", "item 3"]
    assert f"?before={items[3].pk}" in first.text
    second = client.get(f"/dashboard/cohorts/{cohort.pk}/activity/?before={items[3].pk}")
    assert [item.text for item in second.context["items"]] == ["item 2", "item 1"]
    last = client.get(f"/dashboard/cohorts/{cohort.pk}/activity/?before={items[1].pk}")
    assert [item.text for item in last.context["items"]] == ["item 0"] and last.context["older"] is None
    assert "Earlier activity" not in last.text and "Newest activity" in last.text


def test_the_activity_page_is_for_the_cohorts_instructors_only(client):
    cohort = make_cohort(make_user("lead", instructor=True), learners=[learner := make_user("kid")])
    client.force_login(make_user("other", instructor=True))
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/activity/").status_code == 404
    client.force_login(learner)
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/activity/").status_code == 403
    assert Membership.objects.filter(cohort=cohort).count() == 2


def test_a_dashboard_fetches_the_items_after_the_newest_it_shows(client):
    instructor = make_user("lead", instructor=True)
    cohort = make_cohort(instructor)
    items = [ActivityItem.objects.create(cohort=cohort, kind="x", text=f"<i>item {n}</i>") for n in range(3)]
    client.force_login(instructor)
    response = client.get(f"/dashboard/cohorts/{cohort.pk}/activity.json?after={items[0].pk}")
    assert [item["text"] for item in response.json()["items"]] == ["<i>item 2</i>", "<i>item 1</i>"]  # JSON, not HTML
    assert [item["id"] for item in client.get(f"/dashboard/cohorts/{cohort.pk}/activity.json").json()["items"]] == [
        item.pk for item in reversed(items)
    ]
    client.force_login(make_user("other", instructor=True))
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/activity.json").status_code == 404


async def test_a_run_updates_the_runs_in_the_learners_cell_live():
    from django.utils import timezone as tz

    from playground.models import Run

    instructor, (kid,), cohort = await setup_cohort()
    communicator, _ = await open_socket(instructor, cohort.pk)
    starter = get_catalogue().get("groups").starter
    assert starter
    run = await database_sync_to_async(Run.objects.create)(learner=kid, starter=starter, code="", started_at=tz.now())
    await aannounce(kid, "run_started", run_id=run.pk, starter=starter)
    event = await communicator.receive_json_from(timeout=5)
    assert event["items"][0]["text"] == f"kid started a playground run ({starter})"
    assert '<span title="playground runs">▶1</span>' in event["row"]["cells_html"]
    await communicator.disconnect()


def test_undoing_a_removal_brings_the_learner_back_live(client):
    instructor = make_user("lead", instructor=True)
    kid = make_user("kid")
    cohort = make_cohort(instructor, learners=[kid])
    client.force_login(instructor)
    client.post(f"/dashboard/cohorts/{cohort.pk}/members/{kid.pk}/remove/")
    assert list(ActivityItem.objects.values_list("text", flat=True)) == ["kid left the cohort"]
    client.post(f"/dashboard/cohorts/{cohort.pk}/members/{kid.pk}/undo-remove/")
    assert ActivityItem.objects.order_by("-id").values_list("text", flat=True).first() == "kid joined the cohort"


def test_answers_and_predictions_leave_the_learners_matrix_row_as_it_was():
    """Why feed.ROW_UNCHANGED may skip building the row for them: if the matrix ever shows answers or predictions,
    this fails and the kind must leave that set."""
    instructor, (kid,), cohort = async_to_sync(setup_cohort)()
    attempt = make_attempt(kid, "groups")
    before = dataclasses.asdict(learner_row(cohort, kid.pk))
    for question in attempt.question_ids[:3]:
        submit_answer(attempt, question, [wrong_key(question)])
    Prediction.objects.create(
        user=kid, topic="groups", step=1, ask=ASKS[0], answer="x", correct=False, answered_at=timezone.now()
    )
    assert dataclasses.asdict(learner_row(cohort, kid.pk)) == before
    assert feed.ROW_UNCHANGED == {"answer", "prediction"}


def test_an_answer_keeps_the_learners_flags_without_a_row_or_a_flags_line(settings):
    settings.DASHBOARD_STUCK_FAILED_ATTEMPTS = 1
    instructor, (kid,), cohort = async_to_sync(setup_cohort)()
    fail_quiz(kid)
    stuck = ["1 failed quiz attempts on Groups and broadcast"]
    assert ActivityItem.objects.filter(learner=kid, kind="flags").get().flags == stuck

    (update,) = feed.record([cohort.pk], kid, "answer", {"topic": "groups", "question": "q", "correct": True})
    assert "row" not in update.event and [item["kind"] for item in update.event["items"]] == ["answer"]
    assert ActivityItem.objects.filter(learner=kid).latest("id").flags == stuck  # the baseline the next row compares to
    assert ActivityItem.objects.filter(learner=kid, kind="flags").count() == 1
