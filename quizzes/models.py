"""Quiz attempts and answers. Questions live in content/; rows refer to them by stable id."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Attempt(models.Model):
    """One learner taking one topic's quiz, in practice or test mode."""

    class Mode(models.TextChoices):
        PRACTICE = "practice", "Practice: one question at a time, feedback at once"
        TEST = "test", "Test: answer everything, then submit and review"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    # Anonymous attempts belong to a random token kept in the visitor's session (it survives log-in's new session key).
    anon_token = models.CharField(max_length=32, blank=True, db_index=True)
    topic = models.SlugField(max_length=80)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    question_ids = models.JSONField()  # ordered ids drawn for this attempt
    choice_orders = models.JSONField()  # question id -> shuffled choice keys
    hint_penalty = models.FloatField(default=0)
    pass_percent = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    score_percent = models.FloatField(null=True, blank=True)
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    content_hash = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["user", "topic", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(anon_token=""), name="attempt_has_an_owner"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk} on {self.topic}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class Answer(models.Model):
    """The choice(s) given to one question of an attempt; one row per question, enforced by the database."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question_id = models.CharField(max_length=120)
    chosen = models.JSONField()  # sorted choice keys
    correct = models.BooleanField()
    answered_at = models.DateTimeField()
    changed_count = models.PositiveSmallIntegerField(default=0)
    seconds_taken = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "question_id"], name="one_answer_per_question")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.chosen}"


class HintReveal(models.Model):
    """A hint the learner asked to see."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="hint_reveals")
    question_id = models.CharField(max_length=120)
    hint_index = models.PositiveSmallIntegerField()
    revealed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question_id", "hint_index"], name="one_reveal_per_hint")
        ]

    def __str__(self) -> str:
        return f"{self.question_id} hint {self.hint_index}"
