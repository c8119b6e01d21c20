"""The playground sandbox engine: Django-free, so it imports and tests without settings.

Host side, `host/` (this process): Sandbox, SandboxPool, start_gate, run_script, SandboxOptions.
Inside the sandbox, `inside/` (a fresh /usr/bin/python3 under bwrap): harness, appload, driver, traced_layer, tracing.
Both sides, `shared/`: the protocol and SandboxLimits; `inside/` imports only `shared/`, never `host/`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GateResult": "host.gate",
    "start_gate": "host.gate",
    "SandboxStartError": "host.launch",
    "SandboxLimits": "shared.limits",
    "SandboxOptions": "host.options",
    "SandboxPool": "host.pool",
    "Sandbox": "host.runner",
    "outcome": "host.script",
    "read_script": "host.script",
    "run_script": "host.script",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import lazily, so `python -m playground.sandbox.host.envbuild` and the harness modules load nothing extra."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
