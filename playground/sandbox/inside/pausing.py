"""Inside the sandbox: pause on each event: every Channels call waits at a gate until the host sends `step`."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any

from ..shared import protocol
from .tracing import Tracer, clip


@dataclass(eq=False)
class Held:
    """One Channels call waiting for a step."""

    id: int
    client: Any
    future: asyncio.Future[None] = field(repr=False)


class Pauser:
    """Holds Channels calls while pause is on and lets them go one `step` at a time, oldest first."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.on = False
        self.held: collections.deque[Held] = collections.deque()
        self.count = 0

    def holds(self, client: Any) -> bool:
        """True while one of this client's calls waits at the gate (so it cannot progress by itself)."""
        return any(held.client is client for held in self.held)

    async def gate(
        self, client: Any, kind: str, action: str, method: str | None = None, line: int | None = None
    ) -> None:
        """Return at once while pause is off; otherwise announce the pending call and wait for its step."""
        if not self.on:
            return
        self.count += 1
        held = Held(self.count, client, asyncio.get_running_loop().create_future())
        self.held.append(held)
        self.tracer.emitter.emit(
            {
                "type": protocol.PAUSED,
                "id": held.id,
                "client": client.id if client is not None else None,
                "kind": kind,
                "method": method,
                "line": line,
                "action": clip(action, protocol.MAX_WORDS_CHARS),
                "step": self.tracer.step,
                "waiting": len(self.held),
            }
        )
        try:
            await held.future
        except asyncio.CancelledError:
            if held in self.held:  # the consumer was stopped while it waited
                self.held.remove(held)
                self._resumed(held, "cancelled")
            raise

    def step(self) -> None:
        """Release the oldest waiting call (nothing happens when none waits)."""
        while self.held:
            held = self.held.popleft()
            if not held.future.done():
                held.future.set_result(None)
                self._resumed(held, "step")
                return

    def set(self, on: bool) -> None:
        """Turn pause on or off; off releases every waiting call in order."""
        self.on = on
        while not on and self.held:
            held = self.held.popleft()
            if not held.future.done():
                held.future.set_result(None)
                self._resumed(held, "unpause")

    def _resumed(self, held: Held, by: str) -> None:
        self.tracer.emitter.emit({"type": protocol.RESUMED, "id": held.id, "by": by, "waiting": len(self.held)})
