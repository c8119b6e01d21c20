"""The stored activity feed: what a cohort's learners did lately, so a reloaded dashboard still shows it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cohorts.models import Cohort


class ActivityItem(models.Model):
    """One line of a cohort's activity feed; kept DASHBOARD_FEED_RETENTION_HOURS, then pruned on a later write."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="activity_items")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=40)
    text = models.CharField(max_length=400)  # plain text, learner input included: escaped wherever it is shown
    flags = models.JSONField(default=list)  # the learner's stuck flags just after this: a change becomes an item
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["cohort", "-id"]), models.Index(fields=["cohort", "created_at"])]

    def __str__(self) -> str:
        return self.text
