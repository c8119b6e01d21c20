"""A periodic sweep in every web and worker process: runs of a process that died are marked interrupted within a few
heartbeats, even when no run is starting or beating anywhere (open_run and the heartbeat sweep too)."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from playground.run.records import mark_interrupted_runs

logger = logging.getLogger(__name__)

_sweeper: asyncio.Task[None] | None = None


async def sweep_forever() -> None:
    """Once a heartbeat; a failed sweep (the database restarting) is logged and tried again next time."""
    while True:
        await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
        try:
            swept = await database_sync_to_async(mark_interrupted_runs)()
        except Exception as exc:  # noqa: BLE001 - the sweep must outlive a database that is away for a while
            logger.warning("sweeping the runs of dead processes failed: %s", exc)
            continue
        if swept:
            logger.info("marked %s run(s) of stopped processes as interrupted", swept)


def ensure_sweeping() -> None:
    """Start this process's sweep on its event loop, once (a page socket or a worker calls it when it starts)."""
    global _sweeper
    loop = asyncio.get_running_loop()
    if _sweeper is None or _sweeper.done() or _sweeper.get_loop() is not loop:
        _sweeper = loop.create_task(sweep_forever())
