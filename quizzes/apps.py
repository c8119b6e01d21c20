from __future__ import annotations

from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    """Question bank, quiz attempts and server-side grading."""

    name = "quizzes"

    def ready(self) -> None:
        from quizzes import checks, signals  # noqa: F401 - registers the bank check and receivers
