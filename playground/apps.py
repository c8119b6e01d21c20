from __future__ import annotations

from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    """The consumer playground and its sandboxed runs."""

    name = "playground"

    def ready(self) -> None:
        from playground import checks, signals  # noqa: F401 - registers the playground checks and receivers
