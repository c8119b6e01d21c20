"""Cohorts: a group of learners followed by one or more instructors.

The tables keep the names they had when these models lived in `dashboards`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_join_code() -> str:
    return secrets.token_urlsafe(9)


class Cohort(models.Model):
    """A class of learners; learners join through its join link while the code is valid."""

    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    join_code = models.CharField(max_length=24, unique=True, default=new_join_code)
    join_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "dashboards_cohort"

    def __str__(self) -> str:
        return self.name

    def join_is_open(self) -> bool:
        return self.join_expires_at is None or self.join_expires_at > timezone.now()


class Membership(models.Model):
    """A user's place in a cohort, as learner or instructor."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships")
    role = models.CharField(max_length=12, choices=Role.choices)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "dashboards_membership"
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="one_membership_per_cohort")]
        indexes = [models.Index(fields=["user", "role"], name="dashboards__user_id_5b9587_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.cohort_id} as {self.role}"
