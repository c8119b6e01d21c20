from __future__ import annotations

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Instructor cohorts, progress and statistics."""

    name = "dashboards"

    def ready(self) -> None:
        """Subscribe to learner activity: the learning apps announce it without knowing the dashboards exist."""
        from activity import learner_acted, learner_acted_async
        from dashboards.announce import aannounce_to_cohorts, announce_to_cohorts

        learner_acted.connect(announce_to_cohorts, dispatch_uid="dashboards.announce_to_cohorts")
        learner_acted_async.connect(aannounce_to_cohorts, dispatch_uid="dashboards.aannounce_to_cohorts")
