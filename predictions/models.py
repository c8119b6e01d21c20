"""A learner's predictions: one row per step of a lesson trace or of a playground run, the first answer kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from playground.models import Run
from predictions.questions import ASKS


class Prediction(models.Model):
    """What a signed-in learner predicted before one step, and whether the recorded trace agreed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="predictions")
    topic = models.SlugField(max_length=80, blank=True)  # a lesson trace, by the topic whose execution page asked
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE, related_name="predictions")
    step = models.PositiveIntegerField()
    ask = models.CharField(max_length=20, choices=[(ask, ask) for ask in ASKS])
    answer = models.CharField(max_length=400)  # what the learner chose or typed (at most PREDICT_ANSWER_MAX_CHARS)
    correct = models.BooleanField()
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(run__isnull=True) & ~models.Q(topic=""))
                | (models.Q(run__isnull=False) & models.Q(topic="")),
                name="prediction_of_a_trace_or_a_run",
            ),
            models.UniqueConstraint(
                fields=["user", "topic", "step"],
                condition=models.Q(run__isnull=True),
                name="one_prediction_per_trace_step",
            ),
            models.UniqueConstraint(
                fields=["user", "run", "step"],
                condition=models.Q(run__isnull=False),
                name="one_prediction_per_run_step",
            ),
        ]
        indexes = [models.Index(fields=["user", "-answered_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} predicted step {self.step} of {self.topic or f'run {self.run_id}'}"
