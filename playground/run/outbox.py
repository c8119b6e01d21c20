"""The page's outbox: a quiet run's messages go out at once, a flood reaches the browser in a few batches."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

Notify = Callable[[dict[str, Any]], Awaitable[None]]
EVENT_BATCH_SECONDS = 0.03  # page messages beyond the burst below wait this long, so a flood arrives in few batches
EVENT_BURST = 16  # page messages sent at once within EVENT_BATCH_SECONDS (one step brings two or three)


class PageOutbox:
    """Queues page messages in the sandbox's order and sends them as one message or one `batch`, paced."""

    def __init__(self, send: Notify, clock: Callable[[], float] = time.monotonic) -> None:
        self.send = send
        self.clock = clock
        self.queued: list[dict[str, Any]] = []  # page messages not sent yet, in the sandbox's order
        self.flush_task: asyncio.Task[None] | None = None
        self.recent_flushes: deque[float] = deque(maxlen=EVENT_BURST)

    def post(self, message: dict[str, Any]) -> None:
        """Queue a page message; the queue goes out as one `batch`, so a flood never floods the browser."""
        last = self.queued[-1] if self.queued else None
        if last is not None and last["type"] == message["type"] == "events":
            last["events"].extend(message["events"])
        else:
            self.queued.append(message)
        if self.flush_task is None:
            self.flush_task = asyncio.create_task(self.flush_later(self.delay()))

    def delay(self) -> float:
        """A quiet run sends at once; only a flood waits, and then goes out in one batch per interval."""
        recent = self.recent_flushes
        quiet = len(recent) < EVENT_BURST or self.clock() - recent[0] >= EVENT_BATCH_SECONDS
        return 0.0 if quiet else EVENT_BATCH_SECONDS

    async def flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.flush_task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self.queued = self.queued, []
        if batch:
            self.recent_flushes.append(self.clock())
            await self.send(batch[0] if len(batch) == 1 else {"type": "batch", "messages": batch})

    async def flush_now(self) -> None:
        """Send what is queued without waiting (the run is ending)."""
        if self.flush_task:
            self.flush_task.cancel()
            self.flush_task = None
        await self.flush()
