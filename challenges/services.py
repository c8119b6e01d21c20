"""Grading for a learner: the per-learner limits, the Submission row and the failed tests' runs, the grader on this
process's sandboxes, the hints a learner opens, and the announcements the dashboards listen to."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from activity import aannounce, announce
from challenges.grader import TestResult, grade
from challenges.loader import get_challenges
from challenges.models import GradingRun, HintsTaken, Submission
from challenges.runs import keep_run
from challenges.types import Challenge
from playground import sandbox_supply
from playground.run.limits import run_limits

# A grading unfinished after this long was on a process that died; it no longer counts as going on.
STALE_GRADING = timedelta(minutes=5)


class GradingRefused(Exception):
    """The learner may not grade now; the message says why and `retry_after` (seconds) when to try again, if known."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


class UnknownChallenge(Exception):
    """No challenge has this slug."""


def check_code(code: str) -> None:
    """Refuse code the sandbox would refuse to load (max_code_bytes), before anything is recorded."""
    most = run_limits().max_code_bytes
    size = len(code.encode("utf-8"))
    if size > most:
        raise GradingRefused(f"Your code is {size:,} bytes; a module may be at most {most:,} bytes.")
    if not code.strip():
        raise GradingRefused("There is no code to test: write your consumer in the editor first.")


@database_sync_to_async
def open_submission(user: Any, slug: str, code: str, content_hash: str) -> Submission:
    """Enforce CHALLENGE_GRADES_PER_MINUTE and CHALLENGE_CONCURRENT_GRADES for this learner, then record the grading."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one learner's requests in turn
        now = timezone.now()
        mine = Submission.objects.filter(learner=user)
        going = mine.filter(finished_at__isnull=True, started_at__gte=now - STALE_GRADING).count()
        if going >= settings.CHALLENGE_CONCURRENT_GRADES:
            raise GradingRefused("Your previous grading is still running; try again when its results appear.")
        this_minute = mine.filter(started_at__gte=now - timedelta(minutes=1)).order_by("-started_at")
        most = settings.CHALLENGE_GRADES_PER_MINUTE
        recent = list(this_minute.values_list("started_at", flat=True)[:most])
        if len(recent) >= most:
            # The oldest of the last `most` gradings leaves the minute first; then there is room for one more.
            wait = max(1, math.ceil((recent[-1] + timedelta(minutes=1) - now).total_seconds()))
            raise GradingRefused(f"At most {most} gradings a minute: try again in {wait} s.", retry_after=wait)
        return Submission.objects.create(
            learner=user, challenge=slug, code=code, content_hash=content_hash, started_at=now
        )


@database_sync_to_async
def finish_submission(submission: Submission, results: list[TestResult]) -> None:
    """Record the verdicts, keep the runs of the failed tests and forget those of the learner's earlier gradings."""
    passed = sum(1 for result in results if result.passed)
    submission.finished_at = timezone.now()
    submission.passed_tests, submission.total_tests = passed, len(results)
    submission.passed = bool(results) and passed == len(results)
    submission.seconds = round(sum(result.seconds for result in results), 3) if results else None
    submission.results = [result.public() for result in results]
    with transaction.atomic():
        submission.save(update_fields=["finished_at", "passed_tests", "total_tests", "passed", "seconds", "results"])
        GradingRun.objects.filter(
            submission__learner_id=submission.learner_id, submission__challenge=submission.challenge
        ).exclude(submission=submission).delete()
        runs = []
        for position, result in enumerate(results):
            if not result.passed:
                kept = keep_run(result, settings.CHALLENGE_TRACE_ROWS)
                runs.append(
                    GradingRun(
                        submission=submission,
                        position=position,
                        events=kept.rows,
                        events_truncated=kept.truncated,
                        first_wrong_step=kept.first_wrong_row,
                    )
                )
        GradingRun.objects.bulk_create(runs)


async def grade_submission(user: Any, slug: str, code: str) -> tuple[Submission, list[TestResult]]:
    """Grade `code` for a signed-in learner against every test of the challenge (raises GradingRefused when over a
    limit, UnknownChallenge); the failed tests' runs are kept for the step-through, and the cohorts are told."""
    challenge = get_challenges().get(slug)
    if challenge is None:
        raise UnknownChallenge(slug)
    check_code(code)
    submission = await open_submission(user, slug, code, challenge.content_hash)
    results: list[TestResult] = []
    try:
        async with sandbox_supply.refill_paused():  # the pool's refill would compete with the tests' cold starts
            results = await grade(
                challenge.tests,
                code,
                sandbox_supply.acquire,
                parallel=settings.CHALLENGE_GRADING_PARALLEL,
                test_seconds=settings.CHALLENGE_TEST_SECONDS,
            )
    finally:
        await finish_submission(submission, results)
    await aannounce(
        user,
        "challenge_graded",
        challenge=slug,
        title=challenge.title,
        topic=challenge.topic,
        passed=bool(submission.passed),
        passed_tests=submission.passed_tests,
        total_tests=submission.total_tests,
    )
    return submission, results


def hints_taken(user: Any, slug: str) -> int:
    """How many hints of the challenge the learner has opened (0 for a visitor)."""
    if not user.is_authenticated:
        return 0
    return HintsTaken.objects.filter(learner=user, challenge=slug).values_list("count", flat=True).first() or 0


def reveal_hint(user: Any, challenge: Challenge) -> int:
    """Open the learner's next hint of the challenge (in order, one at a time); returns how many are open now.
    Asking with every hint open changes nothing."""
    with transaction.atomic():
        taken, _ = HintsTaken.objects.select_for_update().get_or_create(learner=user, challenge=challenge.slug)
        if taken.count >= len(challenge.hints):
            return taken.count
        HintsTaken.objects.filter(pk=taken.pk).update(count=F("count") + 1)
        number = taken.count + 1
        announce(
            user,
            "challenge_hint",
            challenge=challenge.slug,
            title=challenge.title,
            topic=challenge.topic,
            number=number,
        )
    return number


def latest_submission(user: Any, slug: str) -> Submission | None:
    """The learner's last finished grading of the challenge, whose code the page restores."""
    if not user.is_authenticated:
        return None
    mine = Submission.objects.filter(learner=user, challenge=slug, finished_at__isnull=False)
    return mine.order_by("-started_at").first()
