"""A run's owner, wherever it lives: it starts the run in a sandbox of its process and answers live proxies and watchers.

Mixed into the page's socket when the page owns its run (PLAYGROUND_EXECUTION=page) and into a worker's run owner
(PLAYGROUND_EXECUTION=workers). Both are Channels consumers: the run's live and watch groups reach them by
`channel_name`, so the messages of playground.live and playground.watch are the same in both modes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from playground.models import Run
from playground.run.records import close_run
from playground.run.session import RunSession
from playground.sandbox.shared import protocol
from playground.watch import mirror_to_watchers


class RunOwner:
    """Owner half of a run; the consumer it is mixed into says how a page message reaches the page (`send_to_page`)."""

    session: RunSession | None = None
    channel_layer: Any
    channel_name: str
    send_to_page: Callable[[dict[str, Any]], Awaitable[None]]

    async def notify_page_and_watchers(self, content: dict[str, Any]) -> None:
        """The page gets everything; instructors watching the run get the same stream, read-only."""
        await self.send_to_page(content)
        if self.session:
            await mirror_to_watchers(self.channel_layer, self.session.run.pk, content)

    async def start_in_sandbox(self, run: Run, live_endpoint: str) -> None:
        """Start the run's code in a sandbox of this process; when none can start, the page is told and the run closed."""
        # Imported here: a web process whose runs live on workers never loads the sandbox machinery.
        from playground import sandbox_supply

        try:
            sandbox = await sandbox_supply.acquire()
        except sandbox_supply.SandboxUnavailable as refusal:
            await close_run(run.pk, Run.EndReason.START_FAILED, str(refusal), [], 0, False)
            await self.send_to_page({"type": protocol.STATUS, "state": "stopped", "reason": str(refusal)})
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
            await self.send_to_page({"type": protocol.LIVE, "url": f"{live_endpoint}{token}/"})

        await self.session.start(run.code, tell_page_the_live_url)

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
