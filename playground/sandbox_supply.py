"""This process's sandboxes: the start gate (run once) and the pool of pre-started sandboxes.

Both live on the server's event loop and are created on first use (Daphne has no start-up hook);
`/healthz` asks for the gate, so a health check right after start-up runs it.
"""

from __future__ import annotations

import asyncio
from functools import cache

from django.conf import settings

from playground.run.limits import run_limits
from playground.sandbox import GateResult, Sandbox, SandboxOptions, SandboxPool, SandboxStartError, start_gate


class SandboxUnavailable(Exception):
    """The playground cannot run code on this server; the message says why, for the learner."""


@cache
def sandbox_options() -> SandboxOptions:
    return SandboxOptions(
        env_dir=settings.PLAYGROUND_SANDBOX_ENV,
        unsandboxed_development=settings.PLAYGROUND_UNSANDBOXED_DEVELOPMENT,
        preload=settings.PLAYGROUND_SANDBOX_PRELOAD,
    )


class SandboxManager:
    """Gate result and pool for one event loop (one server process)."""

    def __init__(self) -> None:
        self.gate: GateResult | None = None
        self.pool: SandboxPool | None = None
        self.lock = asyncio.Lock()

    async def ensure_gate(self) -> GateResult:
        async with self.lock:
            if self.gate is None:
                self.gate = await start_gate(run_limits(), sandbox_options())
                if self.gate.ok:
                    self.pool = SandboxPool(settings.PLAYGROUND_POOL_SIZE, run_limits(), sandbox_options())
                    await self.pool.start()
        return self.gate

    async def acquire(self) -> Sandbox:
        gate = await self.ensure_gate()
        if not gate.ok:
            raise SandboxUnavailable("The playground is switched off on this server: " + "; ".join(gate.reasons))
        if self.pool is None:  # the gate passed but SandboxPool() refused its size (a negative PLAYGROUND_POOL_SIZE)
            raise SandboxUnavailable(
                "The playground is switched off on this server: its sandbox pool could not be made"
            )
        try:
            return await self.pool.acquire()
        except SandboxStartError as exc:
            raise SandboxUnavailable(f"The sandbox could not start: {exc}") from exc


_managers: dict[asyncio.AbstractEventLoop, SandboxManager] = {}


def manager() -> SandboxManager:
    """The manager of the running event loop (tests run several loops in one process)."""
    loop = asyncio.get_running_loop()
    if loop not in _managers:
        for old in [other for other in _managers if other.is_closed()]:
            del _managers[old]
        _managers[loop] = SandboxManager()
    return _managers[loop]


async def acquire() -> Sandbox:
    return await manager().acquire()


async def health() -> dict[str, object]:
    """The gate's verdict for /healthz."""
    gate = await manager().ensure_gate()
    pool = manager().pool
    return {
        "ok": gate.ok,
        "mode": gate.mode,
        "sandboxed": gate.sandboxed,
        "reasons": gate.reasons,
        "warm": pool.ready_count if pool else 0,
    }
