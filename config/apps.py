"""The project package as an app, so its deployment checks are registered."""

from __future__ import annotations

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "project"
    verbose_name = "Channels Academy project"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config import checks  # noqa: F401 - registers the checks
        from config.converters import register_id_converter
        from config.sqlite_wal import keep_wal_of_new_connection

        register_id_converter()
        connection_created.connect(keep_wal_of_new_connection, dispatch_uid="config.keep_wal_of_new_connection")
