"""PlaygroundConsumer: the page's WebSocket, which owns the learner's sandbox for as long as the page is open."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from config.layer import LayerFaultsMixin
from playground import sandboxes
from playground.models import Run
from playground.runs import RunRefused, RunSession, open_run, run_limits
from playground.sandbox.protocol import check_client_op
from playground.watch import watch_group

CLOSE_NOT_SIGNED_IN = 4401
# What an instructor watching a run sees: the trace, output, errors, status and the panel clients' traffic.
WATCHED_TYPES = frozenset(
    {
        "batch",
        "events",
        "output",
        "error",
        "status",
        "paused",
        "resumed",
        "client.accepted",
        "client.message",
        "client.closed",
    }
)


class PlaygroundConsumer(LayerFaultsMixin, AsyncWebsocketConsumer):
    """Browser <-> owner protocol of DESIGN.md; one run at a time per page."""

    session: RunSession | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not user or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        self.user = user
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.session:
            await self.session.stop("page_closed")

    async def layer_failed(self) -> None:
        """Without the channel layer the run cannot reach its live clients or watchers: it ends, recorded."""
        if self.session:
            await self.session.stop(Run.EndReason.INTERRUPTED, "the server lost its channel layer (Redis)")

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def notify_page_and_watchers(self, content: dict[str, Any]) -> None:
        """The page gets everything; instructors watching the run get the same stream, read-only."""
        await self.send_json(content)
        if self.session and content["type"] in WATCHED_TYPES:
            await self.channel_layer.group_send(
                watch_group(self.session.run.pk), {"type": "watch.update", "message": content}
            )

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
        handler = self.BROWSER_HANDLERS.get(message.get("type"))
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
        if self.session:
            await self.session.stop("stopped", "a new run replaced it")
            self.session = None
        await self.send_json({"type": "status", "state": "starting", "reason": None})
        try:
            run = await open_run(self.user, code, str(message.get("starter", "")))
            sandbox = await sandboxes.acquire()
        except (RunRefused, sandboxes.SandboxUnavailable) as refusal:
            await self.send_json({"type": "status", "state": "stopped", "reason": str(refusal)})
            return
        self.session = RunSession(
            run=run,
            owner=self.user,
            sandbox=sandbox,
            notify=self.notify_page_and_watchers,
            channel_layer=self.channel_layer,
            owner_channel=self.channel_name,
        )
        await self.send_json({"type": "live", "url": self.live_url(self.session.live_token)})
        await self.session.start(code)

    def live_url(self, token: str) -> str:
        headers = dict(self.scope.get("headers", []))
        host = headers.get(b"host", b"localhost").decode("latin-1")
        scheme = "wss" if self.scope.get("scheme") in ("wss", "https") else "ws"
        return f"{scheme}://{host}/ws/live/{token}/"

    async def handle_stop(self, message: dict[str, Any]) -> None:
        if self.session:
            await self.session.stop("stopped")
            self.session = None

    async def handle_client(self, message: dict[str, Any]) -> None:
        if not self.session or self.session.ended:
            await self.send_json({"type": "error", "message": "Run your code first; nothing is running."})
            return
        op = {"client": message.get("client")}
        kind = message["type"]
        if kind == "client.connect":
            op.update(op="connect", path=message.get("path", "/"), query=message.get("query", ""))
            op["user"] = {"id": self.user.pk, "username": self.user.get_username()}
        elif kind == "client.send":
            op["op"] = "receive"
            op.update({"bytes": message["bytes"]} if "bytes" in message else {"text": message.get("text")})
        else:
            op.update(op="disconnect", code=message.get("code", 1000))
        problem = check_client_op(op, run_limits().max_message_bytes)
        if problem is None and str(op["client"]).startswith("live"):
            problem = "client names starting with 'live' are kept for live clients"
        if problem:
            await self.send_json({"type": "error", "message": f"{kind}: {problem}."})
            return
        await self.session.client_op(op)

    async def handle_pause(self, message: dict[str, Any]) -> None:
        """Pause on each event: the consumer stops before every Channels call until the learner steps."""
        if not self.session or self.session.ended:
            await self.send_json({"type": "error", "message": "Run your code first; nothing is running."})
            return
        if message["type"] == "pause":
            if not isinstance(message.get("on"), bool):
                await self.send_json({"type": "error", "message": "pause needs on: true or false."})
                return
            await self.session.sandbox.send({"op": "pause", "on": message["on"]})
        else:
            await self.session.sandbox.send({"op": "step"})

    BROWSER_HANDLERS = {
        "run": handle_run,
        "stop": handle_stop,
        "pause": handle_pause,
        "step": handle_pause,
        "client.connect": handle_client,
        "client.send": handle_client,
        "client.close": handle_client,
    }

    # Channel-layer messages from live proxies (types fixed by playground.live, never by a client).
    async def live_connect(self, event: dict[str, Any]) -> None:
        if self.session:
            await self.session.live_connect(
                event["reply_channel"], event["path"], event["query"], event["subprotocols"]
            )

    async def live_receive(self, event: dict[str, Any]) -> None:
        if self.session:
            payload = {"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]}
            await self.session.live_receive(event["client"], payload)

    async def watch_hello(self, event: dict[str, Any]) -> None:
        """A watcher joined mid-run: send it what happened so far."""
        if self.session and self.session.run.pk == event["run_id"]:
            snapshot = {"type": "events", "events": list(self.session.events)}
            await self.channel_layer.send(event["reply_channel"], {"type": "watch.update", "message": snapshot})

    async def watch_update(self, event: dict[str, Any]) -> None:
        """The owner is in the watch group to hear greetings; its own mirrored updates are ignored."""

    async def live_disconnect(self, event: dict[str, Any]) -> None:
        if self.session:
            await self.session.live_disconnect(event["client"], event["code"])
