"""Cohort membership reads: the permission lookups that the playground and the dashboards both make."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.db.models import QuerySet

from cohorts.models import Cohort, Membership


def cohorts_taught_by(user: User) -> QuerySet[Cohort]:
    return Cohort.objects.filter(memberships__user=user, memberships__role=Membership.Role.INSTRUCTOR)


def is_cohort_instructor(user: AbstractBaseUser, cohort_id: int) -> bool:
    """Takes any user object, such as the lazy one a consumer's scope holds."""
    return Membership.objects.filter(cohort_id=cohort_id, user_id=user.pk, role=Membership.Role.INSTRUCTOR).exists()


def instructs_learner(instructor: User, learner_id: int) -> bool:
    """True when `learner_id` is a learner in one of the instructor's cohorts."""
    return Membership.objects.filter(
        user_id=learner_id, role=Membership.Role.LEARNER, cohort__in=cohorts_taught_by(instructor)
    ).exists()


def learner_ids(cohort: Cohort) -> QuerySet[Membership, int]:
    return Membership.objects.filter(cohort=cohort, role=Membership.Role.LEARNER).values_list("user_id", flat=True)


def learner_cohort_ids(user_id: int) -> list[int]:
    return list(
        Membership.objects.filter(user_id=user_id, role=Membership.Role.LEARNER).values_list("cohort_id", flat=True)
    )
