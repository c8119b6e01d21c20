"""Each learner's standing on each challenge: attempts, passes, best time and hints used, in two queries for any
number of learners (the challenge list, the outline and the instructor's matrix all read it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Q

from challenges.models import HintsTaken, Submission

NOT_TRIED, FAILING, PASSED = "not-tried", "failing", "passed"
STATE_LABELS = {NOT_TRIED: "Not tried", FAILING: "Not passed yet", PASSED: "Passed"}


@dataclass(frozen=True)
class ChallengeStatus:
    """Best time: the shortest passing grading, its tests' times added up."""

    attempts: int = 0
    passes: int = 0
    best_seconds: float | None = None
    hints_used: int = 0
    last_graded: datetime | None = None

    @property
    def state(self) -> str:
        return PASSED if self.passes else FAILING if self.attempts else NOT_TRIED

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def statuses(user_ids: Iterable[int]) -> dict[tuple[int, str], ChallengeStatus]:
    """(learner id, challenge slug) -> status, for every challenge a learner graded or took a hint of."""
    ids = list(user_ids)
    found: dict[tuple[int, str], ChallengeStatus] = {}
    graded = Submission.objects.filter(learner_id__in=ids, finished_at__isnull=False).values_list(
        "learner_id", "challenge"
    )
    for user_id, slug, attempts, passes, best, last in graded.annotate(
        attempts=Count("id"),
        passes=Count("id", filter=Q(passed=True)),
        best=Min("seconds", filter=Q(passed=True)),
        last=Max("started_at"),
    ):
        found[(user_id, slug)] = ChallengeStatus(attempts, passes, best, 0, last)
    for user_id, slug, count in HintsTaken.objects.filter(learner_id__in=ids, count__gt=0).values_list(
        "learner_id", "challenge", "count"
    ):
        status = found.get((user_id, slug), ChallengeStatus())
        found[(user_id, slug)] = replace(status, hints_used=count)
    return found


def statuses_of(user: Any) -> dict[str, ChallengeStatus]:
    """One learner's statuses by challenge slug; a visitor has none."""
    if not user.is_authenticated:
        return {}
    return {slug: status for (_, slug), status in statuses([user.pk]).items()}
