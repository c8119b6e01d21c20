from __future__ import annotations

from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    """Predict-the-next-step exercises over lesson traces and playground runs, scored like quiz answers."""

    name = "predictions"

    def ready(self) -> None:
        from predictions import checks  # noqa: F401 - registers the content check
