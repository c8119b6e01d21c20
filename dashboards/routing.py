"""WebSocket routes of the dashboards."""

from __future__ import annotations

from django.urls import path

from dashboards.consumers import CohortConsumer

session_routes = [path("ws/cohorts/<int:cohort_id>/", CohortConsumer.as_asgi())]
