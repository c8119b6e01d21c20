"""Deployment checks (`manage.py check --deploy`) for what only a multi-process production needs."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"


@checks.register(checks.Tags.security, deploy=True)
def refuse_wildcard_allowed_hosts(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A WebSocket's own origin counts only when its Host is in ALLOWED_HOSTS; a wildcard lets a rebound name pass."""
    wild = [host for host in settings.ALLOWED_HOSTS if "*" in host]
    if wild:
        return [
            checks.Error(
                f"DJANGO_ALLOWED_HOSTS contains a wildcard ({', '.join(wild)}).",
                hint="List the site's host names; they also decide which origins may open its WebSockets.",
                id="academy.E001",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility, deploy=True)
def refuse_in_memory_channel_layer(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """The in-memory layer cannot reach another process: groups, live clients and dashboards break at two."""
    if settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND") == IN_MEMORY_LAYER:
        return [
            checks.Error(
                "The channel layer is in-memory, so messages never leave one server process.",
                hint="Set REDIS_URL (for example redis://127.0.0.1:6379/0) to use channels-redis.",
                id="academy.E002",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility)
def refuse_both_smtp_encryptions(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """STARTTLS and SMTPS exclude each other; Django would only fail at the first mail, a learner's reset request."""
    if settings.EMAIL_USE_TLS and settings.EMAIL_USE_SSL:
        return [
            checks.Error(
                "DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL are both on.",
                hint="Use DJANGO_EMAIL_USE_TLS=1 for STARTTLS (port 587) or DJANGO_EMAIL_USE_SSL=1 for SMTPS (465).",
                id="academy.E003",
            )
        ]
    return []
