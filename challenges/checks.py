"""System check: broken challenge content fails `manage.py check` and the test suite."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.core import checks

from challenges.loader import get_challenges
from lessons.catalogue import CatalogueError, get_catalogue


@checks.register("content")
def check_challenges(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Each challenge-content error becomes one check error naming file, line and field."""
    try:
        get_catalogue()
    except CatalogueError:
        return []  # the lessons check reports the catalogue's own errors
    get_challenges.cache_clear()
    try:
        get_challenges()
    except CatalogueError as exc:
        return [checks.Error(str(error), id="challenges.E001") for error in exc.errors]
    return []
