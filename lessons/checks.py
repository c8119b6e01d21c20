"""System checks: broken content fails `manage.py check`, the test suite and start-up."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.core import checks

from lessons.catalogue import CatalogueError, get_catalogue


@checks.register("content")
def check_content(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Each content error becomes one check error naming file, line and field."""
    get_catalogue.cache_clear()
    try:
        get_catalogue()
    except CatalogueError as exc:
        return [checks.Error(str(error), id="lessons.E001") for error in exc.errors]
    return []
