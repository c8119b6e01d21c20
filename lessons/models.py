"""Learner progress through lessons. Content lives in files; rows refer to it by topic slug and mode key."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ModeVisit(models.Model):
    """A learner opened a learning mode of a topic."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mode_visits")
    topic = models.SlugField(max_length=80)
    mode = models.CharField(max_length=20)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic", "mode"], name="one_visit_row_per_mode")]
        indexes = [models.Index(fields=["user", "-last_seen"])]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.topic}/{self.mode}"


class TopicCompletion(models.Model):
    """A learner finished a topic (marked it complete, or passed its quiz)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_completions")
    topic = models.SlugField(max_length=80)
    completed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=16)
    via = models.CharField(max_length=10, choices=[("manual", "Marked complete"), ("quiz", "Passed the quiz")])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="one_completion_per_topic")]

    def __str__(self) -> str:
        return f"{self.user_id} completed {self.topic}"


class LearningPreference(models.Model):
    """The learning mode a learner opens by default."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning_preference")
    preferred_mode = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.user_id} prefers {self.preferred_mode}"


class PracticeReveal(models.Model):
    """A learner asked for a practice question's solution, after choosing an answer when it has choices."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_reveals")
    topic = models.SlugField(max_length=80)
    question = models.CharField(max_length=200)  # the question heading's anchor
    chosen = models.CharField(max_length=1, blank=True)  # the choice key; blank for an open question
    correct = models.BooleanField(null=True)  # None for an open question
    revealed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic", "question"], name="one_reveal_per_practice_question")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} revealed {self.topic}/{self.question}"
