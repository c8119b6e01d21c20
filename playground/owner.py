"""A run's owner, wherever it lives: it starts the run in a sandbox of its process and answers live proxies and watchers.

Mixed into the page's socket when the page owns its run (PLAYGROUND_EXECUTION=page) and into a worker's run owner
(PLAYGROUND_EXECUTION=workers). Both are Channels consumers: the run's live and watch groups reach them by
`channel_name`, so the messages of playground.live and playground.watch are the same in both modes. A page socket
elsewhere (a worker's page, or a page reloaded during the run: playground.attach) reaches the owner the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import ChannelFull
from django.conf import settings
from django.urls import reverse

from config.layer import quietly
from playground.models import Run
from playground.run.records import close_run
from playground.run.session import RunSession
from playground.sandbox.shared import protocol
from playground.watch import mirror_to_watchers

logger = logging.getLogger(__name__)


class RunOwner:
    """Owner half of a run; the consumer it is mixed into says how a page message reaches the page (`send_to_page`)."""

    session: RunSession | None = None
    channel_layer: Any
    channel_name: str
    send_to_page: Callable[[dict[str, Any]], Awaitable[None]]  # to the owner's own socket, if it has one
    page_channel: str | None = None  # the page socket that shows the run, when it is not the owner's own
    run_id: int | None = None
    live_url = ""
    waiting_for_a_page: asyncio.Task[None] | None = None
    dropped_page_messages = 0

    async def notify_page_and_watchers(self, content: dict[str, Any]) -> None:
        """The page gets everything; instructors watching the run get the same stream, read-only."""
        if self.page_channel is not None:
            await self.relay_to_page(content)
        else:
            await self.send_to_page(content)
        if self.session:
            await mirror_to_watchers(self.channel_layer, self.session.run.pk, content)

    async def relay_to_page(self, content: dict[str, Any]) -> None:
        """A page that stopped reading (or whose web process died) loses messages; the run goes on to its limits."""
        assert self.page_channel is not None
        message = {"type": "run.page", "run_id": self.run_id, "message": content}
        try:
            await self.channel_layer.send(self.page_channel, message)
        except ChannelFull:
            self.dropped_page_messages += 1
            if self.dropped_page_messages == 1:
                logger.warning("run %s: its page is not reading; dropping the messages for it", self.run_id)

    async def start_in_sandbox(self, run: Run, live_endpoint: str) -> None:
        """Start the run's code in a sandbox of this process; when none can start, the page is told and the run closed."""
        # Imported here: a web process whose runs live on workers never loads the sandbox machinery.
        from playground import sandbox_supply

        self.run_id = run.pk
        try:
            sandbox = await sandbox_supply.acquire()
        except sandbox_supply.SandboxUnavailable as refusal:
            await close_run(run.pk, Run.EndReason.START_FAILED, str(refusal), [], 0, False)
            await self.notify_page_and_watchers({"type": protocol.STATUS, "state": "stopped", "reason": str(refusal)})
            return
        self.session = RunSession(
            run=run,
            learner=run.learner,
            sandbox=sandbox,
            notify=self.notify_page_and_watchers,
            channel_layer=self.channel_layer,
            owner_channel=self.channel_name,
        )

        async def tell_page_the_live_url(token: str) -> None:
            self.live_url = f"{live_endpoint}{token}/"
            await self.notify_page_and_watchers({"type": protocol.LIVE, "url": self.live_url, "run": run.pk})

        await self.session.start(run.code, tell_page_the_live_url)
        if self.session.pump_task is not None:
            asyncio.create_task(self.leave_when_the_run_ends(self.session.pump_task))

    async def leave_when_the_run_ends(self, pump: asyncio.Task[None]) -> None:
        """Queued behind any message being handled, so a stop in progress still gets its answer."""
        await asyncio.wait([pump])
        if self.waiting_for_a_page:
            self.waiting_for_a_page.cancel()
        # With the layer down the socket is closing with 4012 anyway; a warning, not a task's traceback.
        await quietly(self.channel_layer.send(self.channel_name, {"type": "run.ended"}), "queueing the run's end")

    async def run_ended(self, message: dict[str, Any]) -> None:
        """The run is recorded; an owner with no socket of its own has nothing left to do (see the subclasses)."""

    # Messages from a page socket that shows the run without owning it (playground.relay, playground.attach).
    async def run_op(self, message: dict[str, Any]) -> None:
        if self.session is not None and not self.session.ended:
            await self.session.client_op(message["op"])

    async def run_stop(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            await self.session.stop(message["reason"], message["detail"])
        await self.channel_layer.send(message["reply_channel"], {"type": "run.stopped"})

    async def run_attach(self, message: dict[str, Any]) -> None:
        """A reloaded page (or another tab) shows the run from now on; it gets the run so far, then what follows."""
        session = self.session
        if session is None or session.ended or session.run.pk != message["run_id"]:
            return  # no answer: the page is told the run ended
        if self.shown_on_own_socket():
            await self.channel_layer.send(message["reply_channel"], {"type": "run.attached", "owner": None})
            return
        if self.waiting_for_a_page:
            self.waiting_for_a_page.cancel()
            self.waiting_for_a_page = None
        await session.outbox.flush_now()  # what was queued goes to the page it was for (or nowhere), not twice
        await self.page_shown_elsewhere()
        self.page_channel = message["page"]
        await self.channel_layer.send(message["reply_channel"], {"type": "run.attached", "owner": self.channel_name})
        replay = reverse("playground:replay", args=[session.run.pk])
        snapshot: list[dict[str, Any]] = [
            {"type": protocol.ATTACHED, "run": session.run.pk, "replay": replay, "paused": session.paused},
            {"type": protocol.STATUS, "state": "running", "reason": None},
            {"type": protocol.LIVE, "url": self.live_url, "run": session.run.pk},
            {"type": protocol.EVENTS, "events": list(session.recorder.events)},
            *session.held.values(),  # calls still waiting for a step, oldest first
        ]
        for content in snapshot:
            await self.relay_to_page(content)

    def shown_on_own_socket(self) -> bool:
        """The owner's own page socket shows the run (page mode): another page may not take it from an open page."""
        return False

    async def page_shown_elsewhere(self) -> None:
        """The page that showed the run until now, if any, is told another one does (a second tab took it over)."""
        if self.page_channel is not None:
            await self.relay_to_page(
                {"type": protocol.STATUS, "state": "stopped", "reason": "This run is now shown on another page."}
            )

    async def run_detach(self, message: dict[str, Any]) -> None:
        """The page showing the run closed: the run waits for it to come back (a reload), then ends."""
        if message["page"] == self.page_channel:
            self.page_channel = None
            self.wait_for_a_page()

    def wait_for_a_page(self) -> None:
        """Keep the run for PLAYGROUND_REATTACH_SECONDS for a page to attach (0: end it now)."""
        if self.session is not None and not self.session.ended and self.waiting_for_a_page is None:
            self.waiting_for_a_page = asyncio.create_task(self.end_unless_a_page_attaches())

    async def end_unless_a_page_attaches(self) -> None:
        seconds = settings.PLAYGROUND_REATTACH_SECONDS
        if seconds > 0:
            await asyncio.sleep(seconds)
        self.waiting_for_a_page = None
        if self.session is not None and self.page_channel is None:
            detail = f"the page was closed and not opened again within {seconds:g} s" if seconds > 0 else ""
            await self.session.stop(Run.EndReason.PAGE_CLOSED, detail)

    # Channel-layer messages from live proxies (protocol.CLIENT_OPS, sent by playground.live) and watchers.
    async def client_connect(self, event: dict[str, Any]) -> None:
        if self.session:
            await self.session.live_connect(
                event["reply_channel"], event["path"], event["query"], event["subprotocols"]
            )

    async def client_send(self, event: dict[str, Any]) -> None:
        if self.session:
            payload = {"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]}
            await self.session.live_send(event["client"], payload)

    async def client_close(self, event: dict[str, Any]) -> None:
        if self.session:
            await self.session.live_close(event["client"], event["code"])

    async def watch_hello(self, event: dict[str, Any]) -> None:
        """A watcher joined mid-run: send it what happened so far."""
        if self.session and self.session.run.pk == event["run_id"]:
            snapshot = {"type": protocol.EVENTS, "events": list(self.session.recorder.events)}
            await self.channel_layer.send(event["reply_channel"], {"type": "watch.update", "message": snapshot})

    async def watch_update(self, event: dict[str, Any]) -> None:
        """The owner is in the watch group to hear greetings; its own mirrored updates are ignored."""
