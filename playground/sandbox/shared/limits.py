"""Every number that bounds a playground run, in one frozen value the host and the harness share."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one run; the lead maps Django settings onto these fields (see `from_mapping`)."""

    # Kernel-enforced inside the sandbox (rlimits set by the harness before learner code runs).
    cpu_seconds: int = 5  # RLIMIT_CPU per process: SIGXCPU at the limit, SIGKILL one second later
    memory_bytes: int = 128 * MIB  # RLIMIT_AS per process
    max_processes: int = 32  # RLIMIT_NPROC: processes and threads of the run's uid
    file_size_bytes: int = 1 * MIB  # RLIMIT_FSIZE: a larger write fails with EFBIG
    open_files: int = 64  # RLIMIT_NOFILE
    tmpfs_bytes: int = 8 * MIB  # size of the private /tmp
    # Enforced by the host (runner.Sandbox), which ends the run with a `limit` event.
    run_cpu_seconds: float = 20.0  # CPU of all the run's processes together, sampled twice a second
    lifetime_seconds: float = 900.0  # wall clock from load to forced stop
    idle_seconds: float = 180.0  # wall clock without any client operation from the host
    output_bytes_per_minute: int = 1_000_000  # learner stdout+stderr over any 60-second window
    max_events: int = 10_000  # events of all kinds delivered to the host's reader
    max_message_bytes: int = (
        64 * KIB
    )  # one WebSocket message: protocol.check_op (page socket, run_script) and the live proxy going in, the harness going out
    max_clients: int = 20  # WebSocket clients connected at the same time (Sandbox.send)
    max_code_bytes: int = 256 * KIB  # learner source size (Sandbox.load, the one check on every path)
    start_timeout_seconds: float = 10.0  # a sandbox that is not ready by then is killed
    # Inside the sandbox, as Daphne does it: a handshake neither accepted nor refused by then is dropped (Daphne's
    # --websocket_connect_timeout, 5 s by default, enforced by Autobahn's openHandshakeTimeout).
    handshake_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"SandboxLimits.{field.name} must be a positive number, not {value!r}")

    @classmethod
    def from_mapping(cls, overrides: dict[str, Any] | None) -> SandboxLimits:
        """Defaults with the given field overrides (e.g. settings.PLAYGROUND_LIMITS); unknown names fail."""
        overrides = dict(overrides or {})
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown sandbox limit(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**overrides)

    def replace(self, **changes: Any) -> SandboxLimits:
        """A copy with some fields changed (tests use small limits)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """The form passed to the harness on its command line."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @property
    def max_event_line_bytes(self) -> int:
        """Longest protocol line the host accepts: a message JSON-escaped (worst case 6x) plus framing."""
        return 8 * self.max_message_bytes + 64 * KIB
