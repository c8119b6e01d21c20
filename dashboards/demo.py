"""Generated activity for the demo cohort, so statistics and charts show something real on a fresh install."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cohorts.models import Cohort, Membership
from lessons.catalogue import get_catalogue
from lessons.models import ModeVisit, TopicCompletion
from playground.models import Run
from quizzes.bank import get_bank
from quizzes.models import Answer, Attempt, HintReveal

DEMO_COHORT = "Demo cohort"
DEMO_LEARNERS = 14
DEMO_PASSWORD = "channels-demo-2026"


def make_demo_cohort(instructor, learner, seed: int = 2026, password: str = DEMO_PASSWORD) -> Cohort:
    """Create the demo cohort once, its new learners with `password`; a cohort that exists is left as it is."""
    existing = Cohort.objects.filter(name=DEMO_COHORT, created_by=instructor).first()
    if existing:
        return existing
    rng = random.Random(seed)
    cohort = Cohort.objects.create(name=DEMO_COHORT, created_by=instructor)
    Membership.objects.create(cohort=cohort, user=instructor, role=Membership.Role.INSTRUCTOR)
    User = get_user_model()
    learners = [learner]
    for number in range(1, DEMO_LEARNERS + 1):
        user, created = User.objects.get_or_create(username=f"demo-learner-{number:02d}")
        if created:
            user.set_password(password)
            user.save()
        learners.append(user)
    for user in learners:
        Membership.objects.get_or_create(cohort=cohort, user=user, defaults={"role": Membership.Role.LEARNER})
        generate_activity(user, rng.random(), rng)
    return cohort


def generate_activity(user, skill: float, rng: random.Random, topic_count: int | None = None) -> None:
    """Visits, quiz attempts and runs for one learner; `skill` (0..1) makes answers right more often."""
    now = timezone.now()
    topics = get_catalogue().topics[: topic_count or rng.randint(2, 8)]
    bank = get_bank()
    for topic in topics:
        when = now - timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        for mode in rng.sample(list(topic.modes), rng.randint(1, len(topic.modes))):
            ModeVisit.objects.get_or_create(
                user=user, topic=topic.slug, mode=mode, defaults={"first_seen": when, "last_seen": when}
            )
        if not topic.quiz:
            continue
        for _ in range(rng.randint(0, 2)):
            questions = [q for q in bank.for_topic(topic.slug)][: topic.quiz.size]
            attempt = Attempt.objects.create(
                user=user, topic=topic.slug, mode="test", question_ids=[q.id for q in questions],
                choice_orders={q.id: list(q.choices) for q in questions}, pass_percent=topic.quiz.pass_percent,
                started_at=when, content_hash=topic.content_hash,
            )  # fmt: skip
            correct = 0
            for question in questions:
                difficulty = {"easy": 0.25, "medium": 0.0, "hard": -0.25}[question.difficulty]
                right = rng.random() < min(0.95, max(0.05, skill + difficulty))
                keys = (
                    sorted(question.answer)
                    if right
                    else [rng.choice([k for k in question.choices if k not in question.answer])]
                )
                Answer.objects.create(
                    attempt=attempt,
                    question_id=question.id,
                    chosen=keys,
                    correct=right,
                    answered_at=when,
                    seconds_taken=rng.randint(5, 90),
                )
                if rng.random() < 0.15:
                    HintReveal.objects.create(attempt=attempt, question_id=question.id, hint_index=0, revealed_at=when)
                correct += right
            score = round(100 * correct / len(questions), 1)
            attempt.finished_at, attempt.correct_count, attempt.score_percent = when, correct, score
            attempt.passed = score >= attempt.pass_percent
            attempt.save()
            if attempt.passed:
                TopicCompletion.objects.get_or_create(
                    user=user,
                    topic=topic.slug,
                    defaults={"completed_at": when, "content_hash": topic.content_hash, "via": "quiz"},
                )
        if topic.starter and rng.random() < 0.5:
            reason = rng.choice([Run.EndReason.STOPPED, Run.EndReason.PAGE_CLOSED, Run.EndReason.ERROR])
            events = list(topic.trace.events) if topic.trace else []
            Run.objects.create(
                learner=user,
                starter=topic.starter,
                code="# demo run\n",
                started_at=when,
                ended_at=when,
                end_reason=reason,
                events=events,
                event_count=len(events),
            )
