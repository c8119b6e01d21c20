"""`make_*` helpers that build valid objects with as few arguments as a test needs."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from accounts.roles import make_instructor

DEFAULT_PASSWORD = "correct-horse-battery-42"
_counter = itertools.count(1)


def make_user(username: str | None = None, *, password: str = DEFAULT_PASSWORD, instructor: bool = False, **fields):
    """A saved user with a known password; an instructor when asked."""
    username = username or f"learner{next(_counter)}"
    user = get_user_model().objects.create_user(username=username, password=password, **fields)
    if instructor:
        make_instructor(user)
    return user


def make_attempt(user, topic_slug: str = "consumer-lifecycle", mode: str = "test", seed: int = 7):
    """An attempt owned by `user`, started through the real service."""
    from django.test import RequestFactory

    from lessons.catalogue import get_catalogue
    from quizzes.services import start_attempt

    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return start_attempt(request, get_catalogue().get(topic_slug), mode, seed=seed)


def correct_keys(question_id: str) -> list[str]:
    from quizzes.bank import get_bank

    return sorted(get_bank().questions[question_id].answer)


def wrong_key(question_id: str) -> str:
    from quizzes.bank import get_bank

    question = get_bank().questions[question_id]
    return next(key for key in question.choices if key not in question.answer)


def make_cohort(instructor=None, name: str = "Spring cohort", learners=()):
    """A cohort with its instructor (made if not given) and the given learners."""
    from cohorts.models import Membership
    from dashboards.services import create_cohort

    instructor = instructor or make_user(instructor=True)
    cohort = create_cohort(instructor, name)
    for learner in learners:
        Membership.objects.create(cohort=cohort, user=learner, role=Membership.Role.LEARNER)
    return cohort
