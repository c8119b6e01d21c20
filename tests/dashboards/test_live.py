"""The cohort socket: instructors only, fed by learner activity, and closed when an instructor is removed."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from dashboards.consumers import CLOSE_FORBIDDEN
from dashboards.services import add_co_instructor, remove_instructor
from quizzes.services import finish_attempt, submit_answer
from tests.factories import make_attempt, make_cohort, make_user, wrong_key
from tests.playground.conftest import session_headers

pytestmark = pytest.mark.django_db(transaction=True)


async def open_socket(user, cohort_id: int) -> tuple[WebsocketCommunicator, tuple[bool, int | None]]:
    headers = await database_sync_to_async(session_headers)(user)
    communicator = WebsocketCommunicator(application, f"/ws/cohorts/{cohort_id}/", headers=headers)
    return communicator, await communicator.connect()


@database_sync_to_async
def setup_cohort():
    instructor = make_user("lead", instructor=True)
    learner = make_user("kid")
    cohort = make_cohort(instructor, learners=[learner])
    return instructor, learner, cohort


async def test_learners_and_foreign_instructors_are_refused_before_accept():
    instructor, learner, cohort = await setup_cohort()
    stranger = await database_sync_to_async(make_user)("other-teacher", instructor=True)
    for user in (learner, stranger):
        communicator, result = await open_socket(user, cohort.pk)
        assert result == (False, CLOSE_FORBIDDEN)
    anonymous = WebsocketCommunicator(
        application, f"/ws/cohorts/{cohort.pk}/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    assert await anonymous.connect() == (False, CLOSE_FORBIDDEN)


async def test_answers_and_finished_attempts_reach_the_instructor_live():
    instructor, learner, cohort = await setup_cohort()
    communicator, (connected, _) = await open_socket(instructor, cohort.pk)
    assert connected
    attempt = await database_sync_to_async(make_attempt)(learner, "groups")
    qid = attempt.question_ids[0]
    await database_sync_to_async(submit_answer)(attempt, qid, [wrong_key(qid)])
    event = await communicator.receive_json_from(timeout=5)
    assert {key: event[key] for key in ("kind", "user_id", "username", "topic", "question", "correct")} == {
        "kind": "answer",
        "user_id": learner.pk,
        "username": "kid",
        "topic": "groups",
        "question": qid,
        "correct": False,
    }
    assert [item["text"] for item in event["items"]] == [f"kid answered {qid} (wrong)"]
    assert event["learners"] == 1 and "row" not in event  # an answer leaves the matrix row as it was (feed.py)
    await database_sync_to_async(finish_attempt)(attempt)
    finished = await communicator.receive_json_from(timeout=5)
    assert finished["kind"] == "attempt_finished" and finished["score"] == 0 and finished["passed"] is False
    await communicator.disconnect()


async def test_activity_of_learners_outside_the_cohort_is_not_sent():
    instructor, learner, cohort = await setup_cohort()
    outsider = await database_sync_to_async(make_user)("elsewhere")
    communicator, _ = await open_socket(instructor, cohort.pk)
    attempt = await database_sync_to_async(make_attempt)(outsider, "groups")
    await database_sync_to_async(finish_attempt)(attempt)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_removed_instructor_socket_is_closed():
    instructor, learner, cohort = await setup_cohort()
    helper = await database_sync_to_async(make_user)("co", instructor=True)
    await database_sync_to_async(add_co_instructor)(cohort, "co")
    communicator, (connected, _) = await open_socket(helper, cohort.pk)
    assert connected
    await database_sync_to_async(remove_instructor)(cohort, helper.pk)
    closed = await asyncio.wait_for(communicator.receive_output(), timeout=30)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
