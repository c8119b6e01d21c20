from __future__ import annotations

from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    """Consumer challenges: content, the host-side grader and learners' submissions."""

    name = "challenges"

    def ready(self) -> None:
        from challenges import checks  # noqa: F401 - registers the content check
