"""A running run's heartbeat, so a run whose owner died (process killed, machine lost) is noticed and ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings

from playground.run.records import beat

logger = logging.getLogger(__name__)

# The owner tells its live clients it is alive this many times a heartbeat. A live proxy closes its client after
# live_silence_limit() without a word (playground.live): two beats may come late before a client is dropped, and a
# client of an owner that died is closed within one heartbeat of the death, however the death falls between beats.
LIVE_BEATS_PER_HEARTBEAT = 4


def live_silence_limit() -> float:
    """Three beats' time: one heartbeat less the beat the owner may have sent just before it died."""
    return settings.PLAYGROUND_HEARTBEAT_SECONDS * (LIVE_BEATS_PER_HEARTBEAT - 1) / LIVE_BEATS_PER_HEARTBEAT


class Heartbeat:
    """Stamps the run's row every PLAYGROUND_HEARTBEAT_SECONDS (and sweeps the runs of owners that stopped beating);
    in between, tells the run's live clients the owner is alive."""

    def __init__(self, run_id: int, tell_live_clients: Callable[[], Awaitable[None]]) -> None:
        self.run_id = run_id
        self.tell_live_clients = tell_live_clients
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.beat_forever())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def beat_forever(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS / LIVE_BEATS_PER_HEARTBEAT)
            await self.tell_live_clients()
            beats += 1
            if beats % LIVE_BEATS_PER_HEARTBEAT == 0:
                await self.stamp()

    async def stamp(self) -> None:
        """A database that is away for a moment must not stop the beats its live clients listen for."""
        try:
            await beat(self.run_id)
        except Exception as exc:  # noqa: BLE001 - logged; the next beat tries again
            logger.warning("run %s: stamping its heartbeat failed: %s", self.run_id, exc)
