"""Path converters for ids in URLs: an id no database row can have is no page (404), never a database error.

`<id:pk>` matches 1 to 19 digits and converts to an int in 1..2**63-1, the range of the BigAutoField primary keys
every model uses (config.settings.DEFAULT_AUTO_FIELD). A larger number would raise OverflowError on SQLite and a
range error on PostgreSQL; here it simply matches no route, so Django answers 404 and Channels closes with 4404.
ProjectConfig.ready() registers it before any URLconf or WebSocket route is imported.
"""

from __future__ import annotations

from django.urls import register_converter

LARGEST_DATABASE_ID = 2**63 - 1


class DatabaseIdConverter:
    """A positive id within the range of a 64-bit signed integer column."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= LARGEST_DATABASE_ID:
            raise ValueError(f"{value} is outside the range of database ids")  # Django treats it as no match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def register_id_converter() -> None:
    """Make `<id:…>` available to every path() in the project's URLconfs and WebSocket routes."""
    register_converter(DatabaseIdConverter, "id")
