"""Grading for a learner: the per-learner limits, the Submission row, and the grader on this process's sandboxes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from challenges.grader import TestResult, grade
from challenges.loader import get_challenges
from challenges.models import Submission
from playground import sandbox_supply

# A grading unfinished after this long was on a process that died; it no longer counts as going on.
STALE_GRADING = timedelta(minutes=5)


class GradingRefused(Exception):
    """The learner may not grade now; the message says why, for the learner."""


class UnknownChallenge(Exception):
    """No challenge has this slug."""


@database_sync_to_async
def open_submission(user: Any, slug: str, code: str, content_hash: str) -> Submission:
    """Enforce CHALLENGE_GRADES_PER_MINUTE and CHALLENGE_CONCURRENT_GRADES for this learner, then record the grading."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one learner's requests in turn
        now = timezone.now()
        mine = Submission.objects.filter(learner=user)
        going = mine.filter(finished_at__isnull=True, started_at__gte=now - STALE_GRADING).count()
        if going >= settings.CHALLENGE_CONCURRENT_GRADES:
            raise GradingRefused("Your previous grading is still running; wait for its results.")
        if mine.filter(started_at__gte=now - timedelta(minutes=1)).count() >= settings.CHALLENGE_GRADES_PER_MINUTE:
            raise GradingRefused(
                f"At most {settings.CHALLENGE_GRADES_PER_MINUTE} gradings a minute; wait a moment and try again."
            )
        return Submission.objects.create(
            learner=user, challenge=slug, code=code, content_hash=content_hash, started_at=now
        )


@database_sync_to_async
def finish_submission(submission: Submission, results: list[TestResult]) -> None:
    passed = sum(1 for result in results if result.passed)
    submission.finished_at = timezone.now()
    submission.passed_tests, submission.total_tests = passed, len(results)
    submission.passed = bool(results) and passed == len(results)
    submission.results = [result.public() for result in results]
    submission.save(update_fields=["finished_at", "passed_tests", "total_tests", "passed", "results"])


async def grade_submission(user: Any, slug: str, code: str) -> tuple[Submission, list[TestResult]]:
    """Grade `code` for a signed-in learner against every test of the challenge (raises GradingRefused when over a
    limit, UnknownChallenge); the results keep each run's events for the step-through."""
    challenge = get_challenges().get(slug)
    if challenge is None:
        raise UnknownChallenge(slug)
    submission = await open_submission(user, slug, code, challenge.content_hash)
    results: list[TestResult] = []
    try:
        results = await grade(
            challenge.tests,
            code,
            sandbox_supply.acquire,
            parallel=settings.CHALLENGE_GRADING_PARALLEL,
            test_seconds=settings.CHALLENGE_TEST_SECONDS,
        )
    finally:
        await finish_submission(submission, results)
    return submission, results
