"""PLAYGROUND_EXECUTION=workers, worker side: `manage.py runworker playground-runs` runs the learners' code.

RunWorkerConsumer takes run requests from settings.PLAYGROUND_WORKER_CHANNEL (with several workers, each request
reaches one of them). Every request gets a WorkerRunOwner: a consumer of its own with a channel of its own, so
live proxies and watchers reach the run exactly as they reach a page that owns its run, and a slow start or
stop of one run never holds up the messages of another. playground.relay lists the messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer

from playground.models import Run
from playground.owner import RunOwner
from playground.run.sweep import ensure_sweeping

logger = logging.getLogger(__name__)


@database_sync_to_async
def open_run_record(run_id: int) -> Run | None:
    """The Run row to start, or None when its page already gave up waiting and closed it."""
    return Run.objects.select_related("learner").filter(pk=run_id, ended_at__isnull=True).first()


class WorkerRunOwner(RunOwner, AsyncConsumer):
    """One run on this worker, owned as a page owns it in page mode; its page is reached through the channel layer."""

    async def run_begin(self, message: dict[str, Any]) -> None:
        # types-channels types every consumer scope as a WebSocket scope; this one is run_start's playground.run scope.
        request: dict[str, Any] = self.scope["request"]  # type: ignore[typeddict-item]
        self.run_id, self.page_channel = request["run_id"], request["page"]
        run = await open_run_record(self.run_id)
        if run is None:
            raise StopConsumer
        await self.channel_layer.send(request["reply_channel"], {"type": "run.accepted", "owner": self.channel_name})
        await self.start_in_sandbox(run, request["live_endpoint"])
        if self.session is None or self.session.pump_task is None:
            raise StopConsumer

    async def run_ended(self, message: dict[str, Any]) -> None:
        raise StopConsumer

    async def send_to_page(self, content: dict[str, Any]) -> None:
        """No page shows the run (its page closed and none has attached yet): the trace keeps what happens."""


async def no_socket(message: dict[str, Any]) -> None:
    """A run owner on a worker has no socket of its own; everything it says goes through the channel layer."""
    raise RuntimeError(f"a worker's run owner cannot send {message.get('type')!r} to a socket")


# The run owner as RunWorkerConsumer calls it: a playground.run scope, and channel-layer messages in and out.
RunOwnerApplication = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]],
    Coroutine[Any, Any, None],
]
# types-channels types as_asgi() for asgiref's HTTP, WebSocket and lifespan scopes and events only.
run_owner_application: RunOwnerApplication = WorkerRunOwner.as_asgi()  # type: ignore[assignment]


class RunWorkerConsumer(AsyncConsumer):
    """The instance runworker makes for the worker channel: it hands each run request to a new run owner."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: set[asyncio.Task[None]] = set()

    async def run_start(self, request: dict[str, Any]) -> None:
        ensure_sweeping()
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "run.begin"})
        scope: dict[str, Any] = {"type": "playground.run", "request": request}
        owner = asyncio.create_task(run_owner_application(scope, inbox.get, no_socket))
        self.owners.add(owner)
        owner.add_done_callback(self.owner_done)

    def owner_done(self, owner: asyncio.Task[None]) -> None:
        self.owners.discard(owner)
        if not owner.cancelled() and owner.exception() is not None:
            logger.error("a playground run owner failed", exc_info=owner.exception())
