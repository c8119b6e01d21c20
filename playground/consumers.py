"""The playground page's WebSocket: it checks every browser message, then runs it here or hands it to a worker.

PlaygroundConsumer holds what both modes share (sign-in, the browser protocol of docs/architecture.md and its checks).
OwningPlaygroundConsumer owns the run and its sandbox in this process (PLAYGROUND_EXECUTION=page);
playground.relay.RelayingPlaygroundConsumer forwards it to a runworker process (PLAYGROUND_EXECUTION=workers).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.sockets import CLOSE_SIGNED_OUT, SIGNED_OUT, UserSocketsMixin, still_signed_in
from config.layer import FaultTolerantMixin
from playground.live import live_endpoint
from playground.models import Run
from playground.owner import RunOwner
from playground.run.limits import run_limits
from playground.run.records import RunRefused, open_run
from playground.run.sweep import ensure_sweeping
from playground.sandbox.shared import protocol

CLOSE_NOT_SIGNED_IN = CLOSE_SIGNED_OUT
NOTHING_RUNNING = "Run your code first; nothing is running."


class PlaygroundConsumer(UserSocketsMixin, FaultTolerantMixin, AsyncWebsocketConsumer, ABC):
    """Browser side of the protocol, one run at a time per page; a subclass says where the run lives."""

    @property
    @abstractmethod
    def running(self) -> bool:
        """A run takes operations now."""

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
        """A new run is starting: the current one ends first, so it no longer counts against the learner's limits."""
        await self.end_run(Run.EndReason.STOPPED, "a new run replaced it")

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
    }


class OwningPlaygroundConsumer(RunOwner, PlaygroundConsumer):
    """PLAYGROUND_EXECUTION=page: the page's socket owns its run's sandbox, in this process, while the page is open."""

    @property
    def running(self) -> bool:
        return self.session is not None and not self.session.ended

    async def begin(self, run: Run) -> None:
        await self.start_in_sandbox(run, live_endpoint(self.scope))

    async def end_run(self, reason: str, detail: str = "") -> None:
        if self.session:
            await self.session.stop(reason, detail)
            self.session = None

    async def forward(self, op: dict[str, Any]) -> None:
        assert self.session is not None  # PlaygroundConsumer forwards only while the run is running
        await self.session.client_op(op)

    async def send_to_page(self, content: dict[str, Any]) -> None:
        await self.send_json(content)
