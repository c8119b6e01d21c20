"""Playground runs: who ran what, how it ended, and the events it produced (for replays)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_share_token() -> str:
    return secrets.token_urlsafe(18)


class Run(models.Model):
    """One execution of a learner's consumer in a sandbox."""

    class EndReason(models.TextChoices):
        STOPPED = "stopped", "Stopped by the learner"
        PAGE_CLOSED = "page_closed", "The page was closed"
        ERROR = "error", "The code raised an error"
        LIMIT = "limit", "A limit was reached"
        CRASHED = "crashed", "The sandbox crashed"
        START_FAILED = "start_failed", "The sandbox could not start"
        INTERRUPTED = "interrupted", "The server stopped during the run"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playground_runs")
    starter = models.CharField(max_length=60, blank=True)
    code = models.TextField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # stamped by the run owner's process while it runs
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_detail = models.CharField(max_length=200, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    # Exceptions the learner's code raised while the run went on (connect(), receive()...): a run can keep going
    # after one, so its end reason alone does not say it hit an error. Set at the first one, totalled at the end.
    error_count = models.PositiveIntegerField(default=0)
    events = models.JSONField(default=list)  # trace events, capped at the run's event limit
    events_truncated = models.BooleanField(default=False)
    share_token = models.CharField(max_length=32, unique=True, default=new_share_token)
    share_expires_at = models.DateTimeField(null=True, blank=True)  # None: the share link never expires

    class Meta:
        indexes = [
            models.Index(fields=["learner", "-started_at"]),
            # Finding runs whose process died: only unfinished runs are indexed.
            models.Index(fields=["heartbeat_at"], condition=models.Q(ended_at__isnull=True), name="run_open_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} by {self.learner_id}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class Draft(models.Model):
    """A signed-in learner's code for one starter, saved as they type, so a reload or another device finds it."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playground_drafts")
    starter = models.CharField(max_length=60)
    code = models.TextField()
    saved_at = models.DateTimeField()
    # The page that saved it and that page's save number: a page's own earlier save is not "saved elsewhere".
    page = models.CharField(max_length=32, blank=True, default="")
    page_save = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "starter"], name="one_draft_per_learner_starter")]

    def __str__(self) -> str:
        return f"draft of {self.starter} by {self.learner_id}"
