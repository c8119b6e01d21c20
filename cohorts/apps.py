from __future__ import annotations

from django.apps import AppConfig


class CohortsConfig(AppConfig):
    """Who learns and who teaches in which cohort: below every app that checks cohort membership."""

    name = "cohorts"
