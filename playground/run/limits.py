"""The limits every run gets, read once: the sandbox's defaults with the site's PLAYGROUND_LIMITS applied."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from playground.sandbox.shared.limits import SandboxLimits


@cache
def run_limits() -> SandboxLimits:
    """The limits of every run: SandboxLimits defaults with settings.PLAYGROUND_LIMITS applied."""
    return SandboxLimits.from_mapping(settings.PLAYGROUND_LIMITS)
