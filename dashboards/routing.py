"""WebSocket routes of the dashboards."""

from __future__ import annotations

from django.urls import URLPattern, path

from dashboards.consumers import CohortConsumer

# django-stubs types path() for Django views only; channels' URLRouter routes ASGI applications this way.
session_routes: list[URLPattern] = [path("ws/cohorts/<id:cohort_id>/", CohortConsumer.as_asgi())]  # type: ignore[arg-type]
