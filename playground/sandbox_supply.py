"""This process's sandboxes: the start gate (run once) and the pool of pre-started sandboxes.

Both live on the server's event loop and are created on first use (Daphne has no start-up hook);
`/healthz` asks for the gate, so a health check right after start-up runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import cache

from django.conf import settings

from config.per_loop import OnePerEventLoop
from playground.run.limits import run_limits
from playground.sandbox import GateResult, Sandbox, SandboxOptions, SandboxPool, SandboxStartError, start_gate

# A learner refused because the server is full is told to try again after this long.
FULL_RETRY_SECONDS = 30


class SandboxUnavailable(Exception):
    """The playground cannot run code on this server; the message says why, for the learner."""


@cache
def sandbox_options() -> SandboxOptions:
    return SandboxOptions(
        env_dir=settings.PLAYGROUND_SANDBOX_ENV,
        unsandboxed_development=settings.PLAYGROUND_UNSANDBOXED_DEVELOPMENT,
        preload=settings.PLAYGROUND_SANDBOX_PRELOAD,
        niceness=settings.PLAYGROUND_SANDBOX_NICENESS,
    )


class SandboxManager(OnePerEventLoop):
    """Gate result and pool for one event loop (one server process; tests run several loops in one process)."""

    def __init__(self) -> None:
        self.gate: GateResult | None = None
        self.pool: SandboxPool | None = None
        self.lock = asyncio.Lock()
        self.handed_out: set[Sandbox] = set()
        self.starting = 0

    def running(self) -> int:
        """Sandboxes handed to runs whose process is not gone yet, and those being handed out now."""
        self.handed_out = {sandbox for sandbox in self.handed_out if sandbox.exit_event is None}
        return len(self.handed_out) + self.starting

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
        cap = settings.PLAYGROUND_MAX_RUNNING_SANDBOXES
        if self.running() >= cap:  # free sign-ups must not add up to more sandboxes than the machine can hold
            raise SandboxUnavailable(
                f"The playground is full: {cap} runs are going on this server. "
                f"Please try again in {FULL_RETRY_SECONDS} s."
            )
        self.starting += 1  # counted before the await, so concurrent starts cannot all pass the check
        try:
            sandbox = await self.pool.acquire()
        except SandboxStartError as exc:
            raise SandboxUnavailable(f"The sandbox could not start: {exc}") from exc
        finally:
            self.starting -= 1
        self.handed_out.add(sandbox)
        return sandbox


def manager() -> SandboxManager:
    """The manager of the running event loop."""
    return SandboxManager.of_this_loop()


async def acquire() -> Sandbox:
    return await manager().acquire()


def refill_paused() -> contextlib.AbstractAsyncContextManager[None]:
    """While a burst takes sandboxes (a challenge's grading), this process's pool starts no replacements."""
    pool = manager().pool
    return pool.refill_paused() if pool is not None else contextlib.nullcontext()


async def health() -> dict[str, object]:
    """The gate's verdict and the running sandboxes against their cap, for /healthz."""
    gate = await manager().ensure_gate()
    pool = manager().pool
    return {
        "running": manager().running(),
        "cap": settings.PLAYGROUND_MAX_RUNNING_SANDBOXES,
        "ok": gate.ok,
        "mode": gate.mode,
        "sandboxed": gate.sandboxed,
        "reasons": gate.reasons,
        "warm": pool.ready_count if pool else 0,
    }
