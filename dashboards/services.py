"""Writes to cohorts and memberships, and the instructor-only cohort lookup of the dashboard views."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.roles import is_instructor
from activity import announce
from cohorts.access import cohorts_taught_by
from cohorts.models import Cohort, Membership, new_join_code
from dashboards.announce import revoke_instructor


class CohortError(Exception):
    """A cohort action that cannot be done; the message is for the person who tried."""


def get_cohort_for_instructor_or_404(user: User | AnonymousUser, pk: int) -> Cohort:
    """The cohort if `user` instructs it; anyone else sees a 404, never a hint that it exists."""
    if not user.is_authenticated:
        raise Http404("No such cohort.")
    cohort = cohorts_taught_by(user).filter(pk=pk).first()
    if cohort is None:
        raise Http404("No such cohort.")
    return cohort


def create_cohort(instructor: User, name: str, expires_in_days: int | None = None) -> Cohort:
    if not is_instructor(instructor):
        raise CohortError("Only instructors can create cohorts.")
    with transaction.atomic():
        cohort = Cohort.objects.create(
            name=name,
            created_by=instructor,
            join_expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        Membership.objects.create(cohort=cohort, user=instructor, role=Membership.Role.INSTRUCTOR)
    return cohort


def rotate_join_code(cohort: Cohort, expires_in_days: int | None) -> Cohort:
    """A new join link; the old one stops working at once."""
    cohort.join_code = new_join_code()
    cohort.join_expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    cohort.save(update_fields=["join_code", "join_expires_at"])
    return cohort


def join_cohort(user: User, code: str) -> Cohort:
    cohort = Cohort.objects.filter(join_code=code).first()
    if cohort is None or not cohort.join_is_open():
        raise CohortError("This join link is not valid any more. Ask your instructor for a new one.")
    _, created = Membership.objects.get_or_create(cohort=cohort, user=user, defaults={"role": Membership.Role.LEARNER})
    if created:
        announce(user, "joined", cohort=cohort.pk)
    return cohort


def leave_cohort(user: User, cohort_id: int) -> None:
    deleted, _ = Membership.objects.filter(cohort_id=cohort_id, user=user, role=Membership.Role.LEARNER).delete()
    if not deleted:
        raise Http404("You are not a learner in that cohort.")
    announce(user, "left", cohort=cohort_id)


def remove_learner(cohort: Cohort, learner_id: int) -> None:
    deleted, _ = Membership.objects.filter(cohort=cohort, user_id=learner_id, role=Membership.Role.LEARNER).delete()
    if not deleted:
        raise Http404("No such learner in this cohort.")
    announce(get_user_model().objects.get(pk=learner_id), "left", cohort=cohort.pk)


def remove_member(cohort: Cohort, user_id: int) -> Membership:
    """Take a learner or co-instructor out of the cohort; returns the membership removed, so it can be undone."""
    membership = Membership.objects.filter(cohort=cohort, user_id=user_id).select_related("user").first()
    if membership is None:
        raise Http404("No such member of this cohort.")
    if membership.role == Membership.Role.INSTRUCTOR:
        remove_instructor(cohort, user_id)
    else:
        remove_learner(cohort, user_id)
    return membership


def restore_member(cohort: Cohort, user_id: int, role: str, joined_at: datetime) -> Membership:
    """Undo a removal: the same role and join date; someone who joined again meanwhile keeps that membership."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or (role == Membership.Role.INSTRUCTOR and not is_instructor(user)):
        raise CohortError("That person can no longer be added back.")
    membership, created = Membership.objects.get_or_create(
        cohort=cohort, user=user, defaults={"role": role, "joined_at": joined_at}
    )
    if created and role == Membership.Role.LEARNER:
        announce(user, "joined", cohort=cohort.pk)
    return membership


def add_co_instructor(cohort: Cohort, username: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not is_instructor(user):
        raise CohortError(f"There is no instructor named “{username}”.")
    Membership.objects.update_or_create(cohort=cohort, user=user, defaults={"role": Membership.Role.INSTRUCTOR})
    return user


def remove_instructor(cohort: Cohort, user_id: int) -> None:
    """Remove a co-instructor; their open dashboards are told to close (see dashboards.announce)."""
    instructors = Membership.objects.filter(cohort=cohort, role=Membership.Role.INSTRUCTOR)
    if instructors.count() <= 1:
        raise CohortError("A cohort keeps at least one instructor.")
    deleted, _ = instructors.filter(user_id=user_id).delete()
    if not deleted:
        raise Http404("No such instructor in this cohort.")
    revoke_instructor(cohort.pk, user_id)
