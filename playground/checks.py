"""Deployment checks for the playground."""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from config.checks import IN_MEMORY_LAYER
from playground.run.limits import run_limits


@checks.register(checks.Tags.security, deploy=True)
def refuse_unsandboxed_playground(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """Learner code must never run without the sandbox in production."""
    if settings.PLAYGROUND_UNSANDBOXED_DEVELOPMENT:
        return [
            checks.Error(
                "PLAYGROUND_UNSANDBOXED_DEVELOPMENT is on: learner code would run without bubblewrap.",
                hint="Unset it; it exists for development machines without bubblewrap only.",
                id="playground.E001",
            )
        ]
    return []


@checks.register(checks.Tags.compatibility, deploy=True)
def refuse_workers_without_a_shared_layer(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """Runworker processes hear run requests only through the channel layer; the in-memory one never leaves a process."""
    if (
        settings.PLAYGROUND_EXECUTION == "workers"
        and settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND") == IN_MEMORY_LAYER
    ):
        return [
            checks.Error(
                "PLAYGROUND_EXECUTION=workers with the in-memory channel layer: no runworker process can take a run.",
                hint="Set REDIS_URL so the web and runworker processes share channels-redis, or unset PLAYGROUND_EXECUTION.",
                id="playground.E003",
            )
        ]
    return []


@checks.register()
def valid_playground_limits(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A typo in PLAYGROUND_LIMITS is reported at start, not at the first run."""
    run_limits.cache_clear()
    try:
        run_limits()
    except (TypeError, ValueError) as exc:
        return [checks.Error(f"PLAYGROUND_LIMITS is invalid: {exc}", id="playground.E002")]
    return []


# Settings of the drafts, the runs page and re-attaching, with the least each may be.
AT_LEAST = {
    "PLAYGROUND_DRAFTS_PER_LEARNER": 1,
    "PLAYGROUND_DRAFT_SAVES_PER_MINUTE": 1,
    "PLAYGROUND_RUNS_PAGE_SIZE": 1,
    "PLAYGROUND_REATTACH_SECONDS": 0,
}


@checks.register()
def valid_nothing_lost_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A draft limit of 0 would refuse every save and a page size of 0 every runs page: say so at start."""
    return [
        checks.Error(
            f"{name} is {getattr(settings, name)!r}; it must be a whole number of at least {least}.",
            id="playground.E004",
        )
        for name, least in AT_LEAST.items()
        if type(getattr(settings, name)) is not int or getattr(settings, name) < least
    ]
