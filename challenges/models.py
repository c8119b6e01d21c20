"""Gradings a learner asked for, the runs of the tests they failed, and the hints they opened.

Challenges live in content/; rows refer to them by slug."""

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
    seconds = models.FloatField(null=True, blank=True)  # the tests' times added up: a passing one may be the best time
    results = models.JSONField(default=list)  # TestResult.public() of each test, in order

    class Meta:
        indexes = [
            models.Index(fields=["learner", "-started_at"]),
            models.Index(fields=["learner", "challenge", "-started_at"], name="submission_learner_challenge"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.challenge} {self.started_at:%Y-%m-%d %H:%M}"


class GradingRun(models.Model):
    """The trace of one failed test's run, kept for the step-through (only for the learner's latest grading)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    position = models.PositiveSmallIntegerField()  # the test's index in Submission.results
    events = models.JSONField(default=list)  # trace rows as a playground Run keeps them, at most CHALLENGE_TRACE_ROWS
    events_truncated = models.BooleanField(default=False)
    first_wrong_step = models.PositiveIntegerField(null=True, blank=True)  # index into events where it went wrong

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "position"], name="one_run_per_test")]

    def __str__(self) -> str:
        return f"submission {self.submission_id} test {self.position}"


class HintsTaken(models.Model):
    """How many of a challenge's hints a learner opened (they open in order, one at a time)."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_hints")
    challenge = models.SlugField(max_length=80)
    count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "challenge"], name="one_hint_count_per_challenge")]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.challenge}: {self.count} hints"
