"""Challenges seen by an instructor: one learner's standing on each challenge, and which tests a cohort fails most."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from challenges.loader import get_challenges
from challenges.models import GradingRun, Submission
from challenges.progress import ChallengeStatus, statuses
from lessons.catalogue import get_catalogue


def challenge_title(slug: str) -> str:
    """The challenge's title, or its slug if the content no longer has it."""
    challenge = get_challenges().get(slug)
    return challenge.title if challenge else slug


@dataclass(frozen=True)
class LearnerChallenge:
    """A challenge one learner graded or took hints of, with their latest grading and its failed tests' runs."""

    slug: str
    title: str
    topic_title: str
    status: ChallengeStatus
    latest: Submission | None
    failed_runs: list[tuple[str, int]]  # (test name, GradingRun id)


def learner_challenges(user_id: int) -> list[LearnerChallenge]:
    """Every challenge the learner touched, in the course's order."""
    found = {slug: status for (_, slug), status in statuses([user_id]).items()}
    latest: dict[str, Submission] = {}
    for submission in Submission.objects.filter(learner_id=user_id, finished_at__isnull=False).order_by("-started_at"):
        latest.setdefault(submission.challenge, submission)
    runs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for submission_id, position, run_id in GradingRun.objects.filter(
        submission_id__in=[s.pk for s in latest.values()]
    ).values_list("submission_id", "position", "pk"):
        runs[submission_id].append((position, run_id))
    order = {challenge.slug: n for n, challenge in enumerate(get_challenges().challenges)}
    rows = []
    for slug in sorted(found, key=lambda s: (order.get(s, len(order)), s)):
        challenge = get_challenges().get(slug)
        topic = get_catalogue().get(challenge.topic) if challenge else None
        last = latest.get(slug)
        failed = []
        if last is not None:
            for position, run_id in sorted(runs[last.pk]):
                if position < len(last.results):
                    failed.append((str(last.results[position]["test"]), run_id))
        rows.append(
            LearnerChallenge(slug, challenge_title(slug), topic.title if topic else "", found[slug], last, failed)
        )
    return rows


@dataclass(frozen=True)
class TestFailures:
    """One test of one challenge across a cohort: of the learners who graded the challenge, how many ever failed this
    test and how many fail it in their latest grading."""

    __test__ = False  # not a pytest class

    challenge: str
    title: str
    test: str
    hidden: bool
    graded: int
    ever_failed: int
    failing_now: int

    @property
    def ever_failed_percent(self) -> float:
        return 100 * self.ever_failed / self.graded if self.graded else 0.0


def test_failures(learner_ids: Iterable[int]) -> list[TestFailures]:
    """Every test some learner of the cohort ran, the most failed first (by learners, not by gradings: one learner
    grading ten times counts once)."""
    ever: dict[tuple[str, str], set[int]] = defaultdict(set)
    now: dict[tuple[str, str], set[int]] = defaultdict(set)
    hidden: dict[tuple[str, str], bool] = {}
    graded: dict[str, set[int]] = defaultdict(set)
    seen_latest: set[tuple[int, str]] = set()
    gradings = Submission.objects.filter(learner_id__in=list(learner_ids), finished_at__isnull=False)
    for learner_id, slug, results in gradings.order_by("-started_at").values_list("learner_id", "challenge", "results"):
        graded[slug].add(learner_id)
        is_latest = (learner_id, slug) not in seen_latest
        seen_latest.add((learner_id, slug))
        for result in results:
            key = (slug, str(result["test"]))
            hidden.setdefault(key, bool(result["hidden"]))
            ever.setdefault(key, set())
            if not result["passed"]:
                ever[key].add(learner_id)
                if is_latest:
                    now[key].add(learner_id)
    rows = [
        TestFailures(slug, challenge_title(slug), test, hidden[(slug, test)], len(graded[slug]), len(ever[(slug, test)]),
                     len(now[(slug, test)]))
        for slug, test in ever
    ]  # fmt: skip
    return sorted(rows, key=lambda row: (-row.ever_failed_percent, -row.failing_now, row.title, row.test))
