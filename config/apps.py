"""The project package as an app, so its deployment checks are registered."""

from __future__ import annotations

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Channels Academy project"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the checks
        from config.converters import register_id_converter

        register_id_converter()
