"""The playground page's WebSocket: it checks every browser message, then runs it here or hands it to a worker.

PlaygroundConsumer holds what both modes share (sign-in, the browser protocol of docs/architecture.md and its checks).
OwningPlaygroundConsumer owns the run and its sandbox in this process (PLAYGROUND_EXECUTION=page);
playground.relay.RelayingPlaygroundConsumer forwards it to a runworker process (PLAYGROUND_EXECUTION=workers).
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from typing import Any

from autobahn.exception import Disconnected  # Daphne's WebSocket library: a send on a socket that is closing
from channels.exceptions import ChannelFull, StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.urls import reverse

from accounts.sockets import CLOSE_SIGNED_OUT, SIGNED_OUT, UserSocketsMixin, still_signed_in
from config.layer import LAYER_ERRORS, FaultTolerantMixin
from playground.attach import ask, ask_owner, own_run
from playground.live import live_endpoint
from playground.models import Run
from playground.owner import RunOwner
from playground.run.limits import run_limits
from playground.run.records import RunRefused, interrupted_run, open_run
from playground.run.sweep import ensure_sweeping
from playground.sandbox.shared import protocol

logger = logging.getLogger(__name__)

CLOSE_NOT_SIGNED_IN = CLOSE_SIGNED_OUT
NOTHING_RUNNING = "Run your code first; nothing is running."
# A reloaded page can ask before its old socket's close has reached the owner (who then says the run is shown on
# an open page): it asks again, this many times in all, this long apart.
ATTACH_TRIES = 4
ATTACH_RETRY_SECONDS = 0.5


class PlaygroundConsumer(UserSocketsMixin, FaultTolerantMixin, AsyncWebsocketConsumer, ABC):
    """Browser side of the protocol, one run at a time per page; a subclass says where the run lives.

    A run owned elsewhere (by a worker, or by the page socket of the page before a reload) is relayed: operations go
    to its owner's channel as run.op, its page messages come back as run.page (playground.relay, playground.attach).
    """

    relayed_run: int | None = None  # the relayed run; page messages of any other run are stale and dropped
    owner: str | None = None  # the channel of the relayed run's owner
    ended = False
    watchdog: asyncio.Task[None] | None = None

    @property
    @abstractmethod
    def running(self) -> bool:
        """A run takes operations now."""

    @property
    def relaying(self) -> bool:
        return self.owner is not None and not self.ended

    @abstractmethod
    async def begin(self, run: Run) -> None:
        """Start a Run row the learner may start."""

    @abstractmethod
    async def end_run(self, reason: str, detail: str = "") -> None:
        """Stop the current run, if any."""

    @abstractmethod
    async def forward(self, op: dict[str, Any]) -> None:
        """Hand a checked sandbox op to the run (called only while `running`)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not user or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        self.user = user
        ensure_sweeping()  # this process marks the runs of dead processes, whether or not a run starts here
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """The page closed (or reloads): its run waits PLAYGROUND_REATTACH_SECONDS for the page to attach again."""
        if self.relaying and settings.PLAYGROUND_REATTACH_SECONDS > 0:
            await self.detach()
        else:
            await self.end_run(Run.EndReason.PAGE_CLOSED)

    async def layer_failed(self) -> None:
        """Without the channel layer the run cannot reach its live clients or watchers: it ends, recorded."""
        await self.end_run(Run.EndReason.INTERRUPTED, "the server lost its channel layer (Redis)")

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > settings.PLAYGROUND_MAX_BROWSER_MESSAGE_BYTES:
            await self.send_json({"type": "error", "message": "Messages must be JSON text within the size limit."})
            return
        try:
            message = json.loads(text_data)
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            await self.send_json({"type": "error", "message": "Messages must be JSON objects with a type."})
            return
        # The client's type is looked up in a fixed table; it never names a handler or a channel-layer type.
        kind = message.get("type")
        handler = self.BROWSER_HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.send_json(
                {"type": "error", "message": f"Unknown message type {str(message.get('type'))[:40]!r}."}
            )
            return
        await handler(self, message)

    async def handle_run(self, message: dict[str, Any]) -> None:
        code = message.get("code")
        if not isinstance(code, str):
            await self.send_json({"type": "error", "message": "A run needs the code as text."})
            return
        if not await still_signed_in(self.scope, self.user.pk):  # logged out elsewhere while this socket stayed open
            await self.send_json({"type": "status", "state": "stopped", "reason": SIGNED_OUT})
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        await self.replace_run()
        await self.send_json({"type": "status", "state": "starting", "reason": None})
        try:
            run = await open_run(self.user, code, str(message.get("starter", "")))
        except RunRefused as refusal:
            await self.send_json({"type": "status", "state": "stopped", "reason": str(refusal)})
            return
        await self.begin(run)

    async def replace_run(self) -> None:
        """A new run is starting: the current one ends first, so it no longer counts against the learner's limits.
        A relayed run's last page messages may still be on their way; the page drops them and starts afresh."""
        await self.end_run(Run.EndReason.STOPPED, "a new run replaced it")
        self.relayed_run = self.owner = None

    async def handle_attach(self, message: dict[str, Any]) -> None:
        """A reloaded page shows its run again if it still goes on; if it ended, the page gets its replay link."""
        run_id = message.get("run")
        if type(run_id) is not int or self.running:
            await self.send_json({"type": protocol.ERROR, "message": "attach: name one run, on a page showing none."})
            return
        if not await still_signed_in(self.scope, self.user.pk):  # logged out elsewhere while this socket stayed open
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        run = await own_run(self.user.pk, run_id)
        if run is None:
            await self.send_json({"type": protocol.ERROR, "message": "attach: you have no such run."})
            return
        owner: str | None = None
        for attempt in range(ATTACH_TRIES if run.ended_at is None else 0):
            if attempt:
                await asyncio.sleep(ATTACH_RETRY_SECONDS)
            owner = await ask_owner(self.channel_layer, run_id, self.channel_name)
            if owner != "":
                break
        if owner:
            await self.relay_to(run_id, owner)
        elif owner == "":
            await self.send_json({"type": protocol.ERROR, "message": "This run is shown on another open page."})
        else:
            await self.tell_run_ended(run_id)

    async def tell_run_ended(self, run_id: int) -> None:
        """The run the page asks for is over (or its owner is gone): how it ended, and its replay one click away."""
        interrupted = await interrupted_run(run_id)  # an owner that did not answer may have died: sweep first
        run = await own_run(self.user.pk, run_id)
        assert run is not None
        reason = interrupted or (
            (run.end_detail or run.get_end_reason_display()) if run.ended_at else "the run could not be reached"
        )
        replay = reverse("playground:replay", args=[run_id])
        await self.send_json({"type": protocol.STATUS, "state": "stopped", "reason": reason, "replay": replay})

    # A relayed run: owned by a worker, or by another page socket (this page was reloaded).
    async def relay_to(self, run_id: int, owner: str) -> None:
        self.relayed_run, self.owner, self.ended = run_id, owner, False
        self.watchdog = asyncio.create_task(self.watch_for_a_dead_owner(run_id))

    async def watch_for_a_dead_owner(self, run_id: int) -> None:
        """A killed owner sends nothing more: once its silent run is marked interrupted, the page is told. A failed
        check (the database refusing connections for a moment) is logged and tried again: the watch must not end."""
        while self.relaying and self.relayed_run == run_id:
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
            try:
                reason = await interrupted_run(run_id)
            except Exception as exc:  # noqa: BLE001 - as sweep_forever: the next beat tries again
                logger.warning("run %s: checking whether its owner is alive failed: %s", run_id, exc)
                continue
            if reason and self.relaying and self.relayed_run == run_id:
                self.ended = True
                await self.send_json({"type": "status", "state": "stopped", "reason": reason})

    async def stop_relayed_run(self, reason: str, detail: str) -> None:
        """Stop the relayed run and wait until it is recorded, as a page that owns its run does."""
        if self.watchdog:
            self.watchdog.cancel()
        if self.owner is not None and not self.ended:  # self.relaying, spelled out so the owner's type narrows
            self.ended = True
            stop = {"type": "run.stop", "reason": str(reason), "detail": detail}
            if await ask(self.channel_layer, self.owner, stop, settings.PLAYGROUND_WORKER_STOP_SECONDS) is None:
                logger.warning("run %s: its owner did not confirm the stop", self.relayed_run)

    async def detach(self) -> None:
        """The page closes with the relayed run going: the owner keeps it a while for the page to come back."""
        if self.watchdog:
            self.watchdog.cancel()
        if self.owner is not None and not self.ended:
            self.ended = True
            await self.channel_layer.send(self.owner, {"type": "run.detach", "page": self.channel_name})

    async def forward_to_owner(self, op: dict[str, Any]) -> None:
        assert self.owner is not None  # PlaygroundConsumer forwards only while the run is running
        try:
            await self.channel_layer.send(self.owner, {"type": "run.op", "op": op})
        except ChannelFull:
            await self.send_json(
                {"type": "error", "message": "The run's owner is not keeping up; that message was dropped."}
            )

    async def run_page(self, event: dict[str, Any]) -> None:
        """A page message from the relayed run's owner; its final status means the run is over."""
        if event["run_id"] != self.relayed_run:
            return
        message = event["message"]
        if message["type"] == "status" and message["state"] == "stopped":
            self.ended = True
        await self.send_json(message)

    async def handle_stop(self, message: dict[str, Any]) -> None:
        await self.end_run(Run.EndReason.STOPPED)

    async def handle_client(self, message: dict[str, Any]) -> None:
        if not self.running:
            await self.send_json({"type": "error", "message": NOTHING_RUNNING})
            return
        # The browser's client traffic is the sandbox's op under the same name; checked here, once, in full.
        kind = message["type"]
        op = {"type": kind, "client": message.get("client")}
        if kind == protocol.CLIENT_CONNECT:
            op.update(path=message.get("path", "/"), query=message.get("query", ""))
            op["user"] = {"id": self.user.pk, "username": self.user.get_username()}
        elif kind == protocol.CLIENT_SEND:
            op.update({"bytes": message["bytes"]} if "bytes" in message else {"text": message.get("text")})
        else:
            op["code"] = message.get("code", 1000)
        problem = protocol.check_op(op, run_limits().max_message_bytes)
        if problem is None and str(op["client"]).startswith("live"):
            problem = "client names starting with 'live' are kept for live clients"
        if problem:
            await self.send_json({"type": "error", "message": f"{kind}: {problem}."})
            return
        await self.forward(op)

    async def handle_pause(self, message: dict[str, Any]) -> None:
        """Pause on each event: the consumer stops before every Channels call until the learner steps."""
        if not self.running:
            await self.send_json({"type": "error", "message": NOTHING_RUNNING})
            return
        op = (
            {"type": protocol.PAUSE, "on": message.get("on")}
            if message["type"] == protocol.PAUSE
            else {"type": protocol.STEP}
        )
        problem = protocol.check_op(op, run_limits().max_message_bytes)
        if problem:
            await self.send_json({"type": protocol.ERROR, "message": f"{problem}."})
            return
        await self.forward(op)

    BROWSER_HANDLERS = {
        protocol.RUN: handle_run,
        protocol.STOP: handle_stop,
        protocol.PAUSE: handle_pause,
        protocol.STEP: handle_pause,
        protocol.CLIENT_CONNECT: handle_client,
        protocol.CLIENT_SEND: handle_client,
        protocol.CLIENT_CLOSE: handle_client,
        protocol.ATTACH: handle_attach,
    }


class OwningPlaygroundConsumer(RunOwner, PlaygroundConsumer):
    """PLAYGROUND_EXECUTION=page: the page's socket owns its run's sandbox, in this process. When the page closes with
    the run going, the consumer outlives its socket for PLAYGROUND_REATTACH_SECONDS, so the reloaded page can attach."""

    socket_open = True

    @property
    def owns_a_running_run(self) -> bool:
        return self.session is not None and not self.session.ended

    @property
    def running(self) -> bool:
        return self.owns_a_running_run or self.relaying

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.owns_a_running_run and not self.socket_open:
                task = asyncio.create_task(self.serve_without_a_socket())
                WITHOUT_A_SOCKET.add(task)
                task.add_done_callback(WITHOUT_A_SOCKET.discard)

    async def serve_without_a_socket(self) -> None:
        """Live clients, watchers and a page attaching still reach the run through this consumer's channel; served
        outside the socket's application (Daphne ends that soon after the close) until the run ends (run.ended)."""
        try:
            # types-channels types await_many_dispatch's callables wrongly (as returning callables).
            await await_many_dispatch([self.channel_receive], self.dispatch)  # type: ignore[list-item]
        except StopConsumer:
            pass
        except LAYER_ERRORS as exc:
            logger.warning("run %s: channel layer failed while its page was away (%s)", self.run_id, exc)
            await self.end_run(Run.EndReason.INTERRUPTED, "the server lost its channel layer (Redis)")

    async def disconnect(self, code: int) -> None:
        self.socket_open = False
        if self.owns_a_running_run and settings.PLAYGROUND_REATTACH_SECONDS > 0:
            self.wait_for_a_page()
        else:
            await super().disconnect(code)

    async def run_ended(self, message: dict[str, Any]) -> None:
        if not self.socket_open:
            raise StopConsumer

    def shown_on_own_socket(self) -> bool:
        return self.socket_open

    async def begin(self, run: Run) -> None:
        self.page_channel = None
        await self.start_in_sandbox(run, live_endpoint(self.scope))

    async def end_run(self, reason: str, detail: str = "") -> None:
        await self.stop_relayed_run(reason, detail)
        if self.session:
            await self.session.stop(reason, detail)
            self.session = None

    async def forward(self, op: dict[str, Any]) -> None:
        if self.relaying:
            await self.forward_to_owner(op)
            return
        assert self.session is not None  # PlaygroundConsumer forwards only while the run is running
        await self.session.client_op(op)

    async def send_to_page(self, content: dict[str, Any]) -> None:
        """A page that closes while a message is on its way misses it (the run's record keeps the trace): between the
        browser's close frame and the disconnect event, Daphne's WebSocket library refuses sends."""
        if not self.socket_open:
            return
        try:
            await self.send_json(content)
        except Disconnected:
            logger.info("page socket of %s closed while a message was on its way", self.user.pk)


WITHOUT_A_SOCKET: set[asyncio.Task[None]] = set()  # page-mode runs whose page is away, held until they end
