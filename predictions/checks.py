"""System check: a stop that names no step of its trace, or a wrong field, fails `manage.py check`."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.core import checks

from lessons.catalogue import CatalogueError, get_catalogue
from predictions.content import get_stops


@checks.register("content")
def check_stops(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Each error in content/predictions/ becomes one check error naming file, line and field."""
    try:
        get_catalogue()
    except CatalogueError:
        return []  # the lessons check reports the catalogue's own errors
    get_stops.cache_clear()
    try:
        get_stops()
    except CatalogueError as exc:
        return [checks.Error(str(error), id="predictions.E001") for error in exc.errors]
    return []
