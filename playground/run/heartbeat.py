"""A running run's heartbeat, so a run whose owner died (process killed, machine lost) is noticed and ended."""

from __future__ import annotations

import asyncio

from django.conf import settings

from playground.run.records import beat


class Heartbeat:
    """Stamps the run's row every PLAYGROUND_HEARTBEAT_SECONDS and sweeps the runs of owners that stopped beating."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.beat_forever())

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def beat_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
            await beat(self.run_id)
