from __future__ import annotations

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Instructor cohorts, progress and statistics."""

    name = "dashboards"
