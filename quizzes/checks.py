"""System check: a broken question bank fails `manage.py check` and the test suite."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.core import checks

from lessons.catalogue import CatalogueError, get_catalogue
from quizzes.bank import get_bank


@checks.register("content")
def check_question_bank(app_configs: Sequence[AppConfig] | None = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Each quiz-file error becomes one check error naming file, line and field."""
    try:
        get_catalogue()
    except CatalogueError:
        return []  # the lessons check reports the catalogue's own errors
    get_bank.cache_clear()
    try:
        get_bank()
    except CatalogueError as exc:
        return [checks.Error(str(error), id="quizzes.E001") for error in exc.errors]
    return []
