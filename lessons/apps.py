from __future__ import annotations

from django.apps import AppConfig


class LessonsConfig(AppConfig):
    """Lesson catalogue from content/, topic pages and progress."""

    name = "lessons"

    def ready(self) -> None:
        from lessons import checks, signals  # noqa: F401 - registers the content check and receivers
