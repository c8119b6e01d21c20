"""PLAYGROUND_EXECUTION=workers, web side: the page's socket checks and forwards; a runworker process runs the code.

Messages over the channel layer (types fixed here and in playground.worker, never by a browser):
  page -> settings.PLAYGROUND_WORKER_CHANNEL  run.start {run_id, page, live_endpoint, reply_channel}
  worker -> reply_channel                     run.accepted {owner}: the channel of the run's owner on that worker
  page -> owner                               run.op {op} (already checked), run.stop {reason, detail, reply_channel}
  owner -> reply_channel                      run.stopped
  owner -> page                               run.page {run_id, message}: one page message, relayed as it is
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.exceptions import ChannelFull
from django.conf import settings

from playground.consumers import PlaygroundConsumer
from playground.live import live_endpoint
from playground.models import Run
from playground.run.records import close_run, interrupted_run

logger = logging.getLogger(__name__)


async def ask(channel_layer: Any, channel: str, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """Send a request with a fresh reply channel and wait for the one answer; None if nobody answers in time."""
    reply_channel = await channel_layer.new_channel()
    try:
        await channel_layer.send(channel, {**message, "reply_channel": reply_channel})
        return await asyncio.wait_for(channel_layer.receive(reply_channel), timeout)
    except (TimeoutError, ChannelFull):
        return None


class RelayingPlaygroundConsumer(PlaygroundConsumer):
    """The page's socket when runs live on workers: it never loads a sandbox, and relays the run's page messages."""

    run_id: int | None = None  # the page's current run; messages of any other run are stale and dropped
    owner: str | None = None  # the channel of the current run's owner on its worker
    ended = False
    watchdog: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.owner is not None and not self.ended

    async def begin(self, run: Run) -> None:
        seconds = settings.PLAYGROUND_WORKER_START_SECONDS
        request = {
            "type": "run.start",
            "run_id": run.pk,
            "page": self.channel_name,
            "live_endpoint": live_endpoint(self.scope),
        }
        accepted = await ask(self.channel_layer, settings.PLAYGROUND_WORKER_CHANNEL, request, seconds)
        if accepted is None:
            reason = f"No playground worker answered within {seconds:g} seconds; the run did not start. Try again soon."
            logger.warning("run %s: no worker answered on %r", run.pk, settings.PLAYGROUND_WORKER_CHANNEL)
            await close_run(run.pk, Run.EndReason.START_FAILED, reason, [], 0, False)
            await self.send_json({"type": "status", "state": "stopped", "reason": reason})
            return
        self.run_id, self.owner, self.ended = run.pk, accepted["owner"], False
        self.watchdog = asyncio.create_task(self.watch_for_a_dead_worker(run.pk))

    async def watch_for_a_dead_worker(self, run_id: int) -> None:
        """A killed worker sends nothing more: once its silent run is marked interrupted, the page is told."""
        while self.running and self.run_id == run_id:
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
            reason = await interrupted_run(run_id)
            if reason and self.running and self.run_id == run_id:
                self.ended = True
                await self.send_json({"type": "status", "state": "stopped", "reason": reason})

    async def end_run(self, reason: str, detail: str = "") -> None:
        """Stop the run on its worker and wait until it is recorded, as a page that owns its run does."""
        if self.watchdog:
            self.watchdog.cancel()
        if self.owner is not None and not self.ended:  # self.running, spelled out so the owner's type narrows
            self.ended = True
            stop = {"type": "run.stop", "reason": str(reason), "detail": detail}
            if await ask(self.channel_layer, self.owner, stop, settings.PLAYGROUND_WORKER_STOP_SECONDS) is None:
                logger.warning("run %s: its worker did not confirm the stop", self.run_id)

    async def replace_run(self) -> None:
        """The replaced run's last page messages may still be on their way; the page drops them and starts afresh."""
        await super().replace_run()
        self.run_id = self.owner = None

    async def forward(self, op: dict[str, Any]) -> None:
        assert self.owner is not None  # PlaygroundConsumer forwards only while the run is running
        try:
            await self.channel_layer.send(self.owner, {"type": "run.op", "op": op})
        except ChannelFull:
            await self.send_json(
                {"type": "error", "message": "The run's worker is not keeping up; that message was dropped."}
            )

    async def run_page(self, event: dict[str, Any]) -> None:
        """A page message from the run's owner; its final status means the run is over."""
        if event["run_id"] != self.run_id:
            return
        message = event["message"]
        if message["type"] == "status" and message["state"] == "stopped":
            self.ended = True
        await self.send_json(message)
