"""The playground sandbox engine: Django-free, so it imports and tests without settings.

Owner side (this process): Sandbox, SandboxPool, start_gate, run_script, SandboxLimits, SandboxOptions.
Inside the sandbox (a fresh /usr/bin/python3 under bwrap): harness, appload, driver, layer, tracing, protocol.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GateResult": "gate",
    "start_gate": "gate",
    "SandboxStartError": "launch",
    "SandboxLimits": "limits",
    "SandboxOptions": "options",
    "SandboxPool": "pool",
    "Sandbox": "runner",
    "outcome": "script",
    "read_script": "script",
    "run_script": "script",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import lazily, so `python -m playground.sandbox.envbuild` and the harness modules load nothing extra."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
