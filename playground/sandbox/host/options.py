"""Where the sandbox finds its interpreter, packages and launcher, and which isolation mode it uses."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_ENV_DIR = PROJECT_ROOT / ".sandbox-env"

PRELOAD_MINIMAL = "minimal"  # asyncio + channels.generic.websocket: ~17 MB PSS, fastest cold start
PRELOAD_FULL = "full"  # also django.urls + channels.routing: ~30 MB PSS, routed consumers load ~60 ms faster


@dataclass(frozen=True)
class SandboxOptions:
    """How sandboxes are launched; the defaults are the production choice on a Debian host."""

    env_dir: Path = DEFAULT_ENV_DIR  # built by `python -m playground.sandbox.host.envbuild`
    python: str = "/usr/bin/python3"  # Debian's interpreter: readable by any uid, no shim
    bwrap: str = "/usr/bin/bwrap"
    # Runs the harness in a plain child process: no namespaces, no seccomp, no uid change. Development only.
    unsandboxed_development: bool = False
    # Root launches each run under its own unprivileged uid from this range (one uid per concurrent run).
    uid_base: int = 200_000
    uid_count: int = 10_000
    preload: str = PRELOAD_MINIMAL
    # Learner code runs this much nicer than the site (0-19): under a run storm the kernel gives the web processes'
    # requests the CPU first (nice 10 weighs about a tenth of nice 0), and a sandbox cannot raise its own priority.
    niceness: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "env_dir", Path(self.env_dir))
        if self.preload not in (PRELOAD_MINIMAL, PRELOAD_FULL):
            raise ValueError(f"preload must be {PRELOAD_MINIMAL!r} or {PRELOAD_FULL!r}")
        if not 0 <= self.niceness <= 19:
            raise ValueError("niceness must be between 0 and 19")
        if self.uid_base < 1000 or self.uid_count < 1:
            raise ValueError("uid_base must be >= 1000 and uid_count >= 1")

    def replace(self, **changes: Any) -> SandboxOptions:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @property
    def mode(self) -> str:
        """`development` (no sandbox), `root` (per-run uid, no user namespace) or `userns` (unprivileged)."""
        if self.unsandboxed_development:
            return "development"
        return "root" if os.geteuid() == 0 else "userns"
