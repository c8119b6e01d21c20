"""A small pool of pre-started, single-use sandboxes waiting at `ready`, refilled in the background."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator

from ..shared.limits import SandboxLimits
from .options import SandboxOptions
from .runner import Sandbox

logger = logging.getLogger(__name__)
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


class SandboxPool:
    """`await pool.start()`, then `await pool.acquire()` returns a warm sandbox (or a cold one when the pool is
    empty); each sandbox serves one run and is never returned. `await pool.close()` stops the spares."""

    def __init__(self, size: int, limits: SandboxLimits | None = None, options: SandboxOptions | None = None) -> None:
        if size < 0:
            raise ValueError("pool size must be >= 0")
        self.size = size
        self.limits = limits or SandboxLimits()
        self.options = options or SandboxOptions()
        self._ready: collections.deque[Sandbox] = collections.deque()
        self._wakeup = asyncio.Event()
        self._grew = asyncio.Event()
        self._refill: asyncio.Task[None] | None = None
        self._closed = False
        self._holds = 0  # refills paused while a burst (a challenge's grading) takes sandboxes
        self.last_error: str | None = None
        self.cold_starts = 0

    @property
    def ready_count(self) -> int:
        """Warm sandboxes waiting now."""
        return sum(1 for sandbox in self._ready if not sandbox.done)

    async def start(self) -> None:
        """Begin filling the pool in the background (returns at once)."""
        if self._refill is None:
            self._refill = asyncio.get_running_loop().create_task(self._fill(), name="sandbox-pool-refill")

    async def wait_full(self, timeout: float = 30.0) -> bool:
        """Wait until `size` sandboxes are warm (tests and benchmarks use this)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.ready_count < self.size and loop.time() < deadline:
            self._grew.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grew.wait(), min(0.1, max(0.0, deadline - loop.time())))
        return self.ready_count >= self.size

    async def acquire(self) -> Sandbox:
        """A sandbox at `ready`, yours alone: warm from the pool if one is waiting, else started now."""
        if self._closed:
            raise RuntimeError("the sandbox pool is closed")
        while self._ready:
            sandbox = self._ready.popleft()
            self._wakeup.set()
            if not sandbox.done:
                return sandbox
            await sandbox.stop("died while pooled")
        self._wakeup.set()
        self.cold_starts += 1
        return await Sandbox.start(self.limits, self.options)

    @contextlib.asynccontextmanager
    async def refill_paused(self) -> AsyncIterator[None]:
        """No refill while the block runs: a burst of acquires (a grading's ten tests) would otherwise start cold
        sandboxes and the pool's replacements at once, each slowing the other on a small machine; refilling resumes
        after the block."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            self._wakeup.set()

    async def close(self) -> None:
        """Stop refilling and kill every waiting sandbox."""
        self._closed = True
        if self._refill is not None:
            self._refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refill
        while self._ready:
            await self._ready.popleft().stop("pool closed")

    async def _fill(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while not self._closed:
            for sandbox in [s for s in self._ready if s.done]:
                self._ready.remove(sandbox)
                await sandbox.stop("died while pooled")
            if len(self._ready) >= self.size or self._holds:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                sandbox = await Sandbox.start(self.limits, self.options)
            except Exception as exc:  # noqa: BLE001 - keep retrying; the start gate reports the cause
                self.last_error = str(exc)
                logger.warning("sandbox pool could not start a sandbox: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_FIRST_SECONDS
            if self._closed:
                await sandbox.stop("pool closed")
                return
            self._ready.append(sandbox)
            self._grew.set()
