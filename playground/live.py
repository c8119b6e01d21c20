"""The live endpoint: any WebSocket client reaches a running consumer through /ws/live/<token>/<path>.

The token is an unguessable per-run capability; the proxy carries no session and no user authority.
It talks to the run's owner only through the channel layer, so it works from any server process.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from typing import TYPE_CHECKING, Any

from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from config.layer import CLOSE_LAYER_UNAVAILABLE, FaultTolerantMixin, quietly
from playground.run.heartbeat import live_silence_limit
from playground.run.limits import run_limits
from playground.sandbox.shared import protocol

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the scope type types-channels gives every consumer

logger = logging.getLogger(__name__)

# Close codes the live proxy uses itself: Daphne (autobahn) sends only 1000 and 3000-4999, so the standard
# 1009 "too big" and 1013 "try again later" become 4009 and 4013.
CLOSE_NO_SUCH_RUN = 4404
CLOSE_TOO_LARGE = 4009
CLOSE_TRY_AGAIN_LATER = 4013  # the run's owner is not keeping up with this client's messages
# The run's owner (in any process) stopped beating: its process died or lost Redis. The same code as a consumer that
# lost its channel layer (config.layer): the server side of this socket went away; try again later.
CLOSE_RUN_LOST = CLOSE_LAYER_UNAVAILABLE
# What the run's owner sends each accepted client's proxy LIVE_BEATS_PER_HEARTBEAT times a heartbeat.
OWNER_ALIVE = "owner.alive"
# Daphne reports a close frame without a status code as code None; the run protocol carries a code, so such a close
# travels as 1005, the code RFC 6455 reserves for "no status code was present" (what a browser's CloseEvent shows).
CLOSE_NO_STATUS = 1005


def live_group_name(token: str) -> str:
    """The channel-layer group of a run's owner; the token itself never travels as a group name."""
    return "playground.live." + hashlib.sha256(token.encode()).hexdigest()[:40]


def sendable_close_code(code: int) -> int:
    """The learner's close code if Daphne can send it (1000, 3000-4999), else a plain 1000."""
    return code if code == 1000 or 3000 <= code <= 4999 else 1000


def live_endpoint(scope: _ChannelScope) -> str:
    """The live URL prefix as the page's browser reaches this site (scheme and Host of the page's own socket)."""
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"localhost").decode("latin-1")
    scheme = "wss" if scope.get("scheme") in ("wss", "https") else "ws"
    return f"{scheme}://{host}/ws/live/"


class LiveProxyConsumer(FaultTolerantMixin, AsyncWebsocketConsumer):
    """Relays one external WebSocket client to the run's sandbox via the run owner."""

    owner_channel: str | None = None
    client_id: str | None = None
    answered = False
    owner_watch: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.owner_heard = asyncio.Event()
        kwargs = self.scope["url_route"]["kwargs"]
        path = "/" + kwargs.get("path", "")
        if len(path) > protocol.MAX_PATH:
            self.answered = True
            await self.close(code=CLOSE_NO_SUCH_RUN)
            return
        # This is where an outside client's handshake is checked; the run owner passes it on as it is.
        query = self.scope.get("query_string", b"").decode("latin-1")[: protocol.MAX_PATH]
        offered = [str(s) for s in self.scope.get("subprotocols", [])]
        subprotocols = [s for s in offered if 0 < len(s) <= protocol.MAX_SUBPROTOCOL_CHARS][: protocol.MAX_SUBPROTOCOLS]
        await self.channel_layer.group_send(
            live_group_name(kwargs["token"]),
            {
                "type": protocol.CLIENT_CONNECT,
                "reply_channel": self.channel_name,
                "path": path,
                "query": query,
                "subprotocols": subprotocols,
            },
        )
        self.handshake_timer = asyncio.create_task(self.refuse_if_unanswered())

    async def refuse_if_unanswered(self) -> None:
        """No owner answered: the run is over or never existed. (Shorter than Daphne's own handshake timeout, so the
        client gets this answer, not a dropped connection.)"""
        await asyncio.sleep(settings.PLAYGROUND_LIVE_HANDSHAKE_SECONDS)
        if not self.answered:
            self.answered = True
            await self.close(code=CLOSE_NO_SUCH_RUN)

    def settle(self) -> bool:
        """Mark the handshake answered; False if it already was (a late or duplicate owner reply)."""
        if self.answered:
            return False
        self.answered = True
        self.handshake_timer.cancel()
        return True

    # What the consumer does to this client (protocol.CONSUMER_EVENTS), sent by the run owner.
    async def consumer_accept(self, event: dict[str, Any]) -> None:
        if not self.settle():
            return
        self.owner_channel, self.client_id = event["owner"], event["client"]
        await self.accept(subprotocol=event.get("subprotocol"))
        self.owner_watch = asyncio.create_task(self.close_if_the_owner_goes_silent())

    async def close_if_the_owner_goes_silent(self) -> None:
        """The owner beats several times a heartbeat (playground.run.heartbeat); three beats without a word from it
        mean its process died (or lost Redis): the client is told within one heartbeat instead of waiting forever."""
        while True:
            self.owner_heard.clear()
            try:
                await asyncio.wait_for(self.owner_heard.wait(), live_silence_limit())
            except TimeoutError:
                logger.warning(
                    "live client %s: the run's owner went silent; closing with %s", self.client_id, CLOSE_RUN_LOST
                )
                self.owner_channel = None
                await self.close(code=CLOSE_RUN_LOST)
                return

    async def owner_alive(self, event: dict[str, Any]) -> None:
        self.owner_heard.set()

    async def consumer_reject(self, event: dict[str, Any]) -> None:
        if self.settle():
            await self.close(code=event.get("code") or 403)

    async def consumer_send(self, event: dict[str, Any]) -> None:
        self.owner_heard.set()
        if "bytes" in event:
            await self.send(bytes_data=base64.b64decode(event["bytes"]))
        else:
            await self.send(text_data=event["text"])

    async def consumer_close(self, event: dict[str, Any]) -> None:
        self.owner_channel = None
        if self.settle() or self.client_id:
            await self.close(code=sendable_close_code(event.get("code") or 1000))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.owner_channel:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > run_limits().max_message_bytes:
            await self.close(code=CLOSE_TOO_LARGE)
            return
        message = {"type": protocol.CLIENT_SEND, "client": self.client_id}
        if text_data is not None:
            message["text"] = text_data
        else:
            message["bytes"] = base64.b64encode(bytes_data or b"").decode()
        try:
            await self.channel_layer.send(self.owner_channel, message)
        except ChannelFull:
            logger.warning(
                "live client %s: the run's channel is full; closing with %s", self.client_id, CLOSE_TRY_AGAIN_LATER
            )
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def disconnect(self, code: int | None) -> None:
        if not self.answered:
            self.settle()
        if self.owner_watch:
            self.owner_watch.cancel()
        if self.owner_channel and self.client_id:
            if not isinstance(code, int) or not 1000 <= code <= 4999:
                code = CLOSE_NO_STATUS
            goodbye = {"type": protocol.CLIENT_CLOSE, "client": self.client_id, "code": code}
            await quietly(self.channel_layer.send(self.owner_channel, goodbye), "telling the owner a client left")
