"""Gradings a learner asked for. Challenges live in content/; rows refer to them by slug."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Submission(models.Model):
    """One grading of a learner's code against every test of one challenge."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    challenge = models.SlugField(max_length=80)
    code = models.TextField()
    content_hash = models.CharField(max_length=16)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True)  # every test passed; null until graded
    passed_tests = models.PositiveSmallIntegerField(default=0)
    total_tests = models.PositiveSmallIntegerField(default=0)
    results = models.JSONField(default=list)  # TestResult.public() of each test, in order

    class Meta:
        indexes = [models.Index(fields=["learner", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.challenge} {self.started_at:%Y-%m-%d %H:%M}"
