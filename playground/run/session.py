"""A playground run as its owner sees it: one sandbox, the page's panel clients and any live clients.

The owner is the page's socket, or in workers mode a run owner on a runworker process (playground.owner).
RunSession relays client operations into the sandbox and hands each sandbox event to the part of
playground.run whose job it is: the page's outbox, the trace recorder, the live clients or the end reason.
It ends the run on Stop, page close or any limit, and records it on the Run row.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from django.urls import reverse

from activity import aannounce
from config.layer import GroupMembership, quietly
from playground.attach import owner_group
from playground.live import live_group_name
from playground.models import Run
from playground.run.end_reason import EndReason
from playground.run.heartbeat import Heartbeat
from playground.run.limits import run_limits
from playground.run.live_clients import LiveClients
from playground.run.outbox import Notify, PageOutbox
from playground.run.page_messages import page_message
from playground.run.recorder import TraceRecorder
from playground.run.records import close_run, record_first_error
from playground.sandbox.shared import protocol
from playground.watch import watch_group


class RunSession:
    """Owns one sandbox on behalf of one page; every method runs on the owner's event loop."""

    def __init__(
        self, *, run: Run, learner: Any, sandbox: Any, notify: Notify, channel_layer: Any, owner_channel: str
    ) -> None:
        self.run = run
        self.learner = learner
        self.sandbox = sandbox
        self.notify = notify
        self.live_token = secrets.token_urlsafe(24)
        self.membership = GroupMembership(channel_layer, owner_channel)
        self.outbox = PageOutbox(notify)
        self.recorder = TraceRecorder(run_limits().max_events)
        self.live = LiveClients(channel_layer, owner_channel, run.pk, tell_page=self.outbox.post)
        self.heartbeat = Heartbeat(run.pk, self.live.tell_alive)
        self.end = EndReason()
        self.pump_task: asyncio.Task[None] | None = None
        self.ended = False
        self.errors = 0  # exceptions the learner's code raised
        self.paused = False  # the learner's "pause on each event", for a page that attaches (playground.attach)
        self.held: dict[int, dict[str, Any]] = {}  # the `paused` messages of calls still waiting for a step, by id

    async def start(self, code: str, live_url: Callable[[str], Awaitable[None]]) -> None:
        """Join the run's groups, then hand out the live URL (`live_url(token)`), then load the code: a live client
        that connects the moment it has the URL finds the owner in the live group, and its connect is handled after
        the load (the owner's messages are handled one at a time), so it waits for the run and then connects."""
        await self.membership.join(live_group_name(self.live_token))
        await self.membership.join(watch_group(self.run.pk))
        await self.membership.join(owner_group(self.run.pk))  # a reloaded page finds the run's owner here
        await live_url(self.live_token)
        await aannounce(self.learner, "run_started", run_id=self.run.pk, starter=self.run.starter)
        self.heartbeat.start()
        self.pump_task = asyncio.create_task(self.pump())
        await self.sandbox.load(code)

    async def pump(self) -> None:
        """Route every sandbox event until the sandbox is gone, then close the run."""
        try:
            async for event in self.sandbox.events():
                await self.route(event)
        finally:
            await self.finish()

    async def route(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        client = event.get("client")
        if kind == protocol.TRACE:
            self.outbox.post({"type": protocol.EVENTS, "events": [self.recorder.record(event)]})
        elif kind in protocol.CONSUMER_EVENTS and isinstance(client, str) and client in self.live:
            await self.live.route(kind, client, event)
        elif kind == protocol.LIMIT:
            self.end.limit_reached(event["what"], event.get("detail"))
        elif kind == protocol.EXIT:
            self.end.sandbox_exited(event.get("reason", ""), event.get("detail", ""))
        elif message := page_message(event):
            if kind == protocol.PAUSED:
                self.held[event["id"]] = message
            elif kind == protocol.RESUMED:
                self.held.pop(event["id"], None)
            self.outbox.post(message)
            if kind == protocol.ERROR and event.get("source") != "host":
                self.errors += 1
                if self.errors == 1:
                    await record_first_error(self.run.pk)
                await aannounce(
                    self.learner, "run_error", run_id=self.run.pk, message=str(event.get("message", ""))[:200]
                )

    async def client_op(self, op: dict[str, Any]) -> None:
        """A panel client's operation (checked by the page socket with protocol.check_op)."""
        if op["type"] == protocol.PAUSE:
            self.paused = bool(op["on"])
        await self.sandbox.send(op)

    async def live_connect(self, reply_channel: str, path: str, query: str, subprotocols: list[str]) -> None:
        if self.ended:
            await self.live.refuse(reply_channel)
            return
        client = self.live.add(reply_channel)
        await self.sandbox.send(
            {
                "type": protocol.CLIENT_CONNECT,
                "client": client,
                "path": path,
                "query": query,
                "subprotocols": subprotocols,
            }
        )

    async def live_send(self, client: str, message: dict[str, Any]) -> None:
        if client in self.live and not self.ended:
            await self.sandbox.send({"type": protocol.CLIENT_SEND, "client": client, **message})

    async def live_close(self, client: str, code: int) -> None:
        if self.live.forget(client) and not self.ended:
            await self.sandbox.send({"type": protocol.CLIENT_CLOSE, "client": client, "code": code})

    async def stop(self, reason: str, detail: str = "") -> None:
        """End the run now (Stop button, page closed, a new run); the pump finishes the bookkeeping."""
        if not self.ended:
            self.end.owner_stop(reason, detail)
        await self.sandbox.stop(reason)
        if self.pump_task:
            await asyncio.wait([self.pump_task], timeout=5)

    async def finish(self) -> None:
        """Record the run whatever state the channel layer is in: its clean-up is best effort, the row is not."""
        if self.ended:
            return
        self.ended = True
        self.heartbeat.stop()
        await self.live.close_all()
        await self.membership.leave_all()
        await quietly(self.outbox.flush_now(), "the last page messages")
        reason, detail, trace = self.end.reason, self.end.detail, self.recorder
        await close_run(self.run.pk, reason, detail, trace.events, trace.count, trace.truncated, self.errors)
        await aannounce(self.learner, "run_ended", run_id=self.run.pk, reason=reason)
        stopped = {
            "type": protocol.STATUS,
            "state": "stopped",
            "reason": detail or Run.EndReason(reason).label,
            "replay": reverse("playground:replay", args=[self.run.pk]),
        }
        await quietly(self.notify(stopped), "the run's last status")
