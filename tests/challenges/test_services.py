"""Grading for a learner: CHALLENGE_GRADES_PER_MINUTE and CHALLENGE_CONCURRENT_GRADES enforced at their edge, and a
grading recorded as a Submission with the public results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from challenges.loader import get_challenges
from challenges.models import Submission
from challenges.services import GradingRefused, UnknownChallenge, grade_submission, open_submission
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


async def finished(user, slug: str = "shout-echo", *, minutes_ago: float = 0) -> None:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    await Submission.objects.acreate(
        learner=user, challenge=slug, code="", content_hash="x", started_at=started, finished_at=started
    )


async def test_grades_per_minute_allows_the_limit_and_refuses_one_more(settings):
    settings.CHALLENGE_GRADES_PER_MINUTE = 3
    user = await sync_to_async(make_user)()
    other = await sync_to_async(make_user)()
    await finished(user, minutes_ago=2)  # older than a minute: does not count
    await finished(user)
    await finished(user)
    submission = await open_submission(user, "shout-echo", "code", "hash")  # the third this minute
    submission.finished_at = timezone.now()
    await submission.asave()
    with pytest.raises(GradingRefused, match="At most 3 gradings a minute"):
        await open_submission(user, "shout-echo", "code", "hash")
    await open_submission(other, "shout-echo", "code", "hash")  # per learner


async def test_a_learner_grades_one_at_a_time(settings):
    settings.CHALLENGE_CONCURRENT_GRADES = 1
    user = await sync_to_async(make_user)()
    await open_submission(user, "shout-echo", "code", "hash")
    with pytest.raises(GradingRefused, match="still running"):
        await open_submission(user, "rate-limit", "code", "hash")
    stale = timezone.now() - timedelta(minutes=10)
    await Submission.objects.filter(learner=user).aupdate(started_at=stale)  # a process died mid-grading long ago
    await open_submission(user, "rate-limit", "code", "hash")


async def test_grade_submission_records_the_public_results():
    user = await sync_to_async(make_user)()
    challenge = get_challenges().get("shout-echo")
    submission, results = await grade_submission(user, "shout-echo", challenge.solution)
    await submission.arefresh_from_db()
    assert submission.passed is True and submission.finished_at is not None
    assert (submission.passed_tests, submission.total_tests) == (len(challenge.tests), len(challenge.tests))
    assert submission.results == [result.public() for result in results]
    assert all("expected" not in row for row in submission.results if row["hidden"])
    assert results[0].events[-1]["type"] == "exit"  # the runs stay available for the step-through


async def test_unknown_challenge_is_refused_before_anything_is_recorded():
    user = await sync_to_async(make_user)()
    with pytest.raises(UnknownChallenge):
        await grade_submission(user, "no-such-challenge", "x = 1")
    assert await Submission.objects.filter(learner=user).acount() == 0
