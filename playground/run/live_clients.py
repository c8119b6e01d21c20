"""The run's live clients: sandbox events for them go to their live proxies (playground.live) over the channel layer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.exceptions import ChannelFull

from config.layer import quietly
from playground.live import OWNER_ALIVE
from playground.run.page_messages import frame
from playground.sandbox.shared import protocol

logger = logging.getLogger(__name__)


@dataclass
class LiveClient:
    reply_channel: str
    accepted: bool = False
    dropped: int = 0  # frames lost because the client's channel was full (it stopped reading)


class LiveClients:
    """Names the run's live clients, sends each its frames (a client that stops reading loses them, the run goes on)
    and closes them all when the run ends."""

    def __init__(
        self, layer: Any, owner_channel: str, run_id: int, tell_page: Callable[[dict[str, Any]], None]
    ) -> None:
        self.layer = layer
        self.owner_channel = owner_channel
        self.run_id = run_id
        self.tell_page = tell_page
        self.clients: dict[str, LiveClient] = {}
        self.counter = 0

    def __contains__(self, client: object) -> bool:
        return client in self.clients

    def add(self, reply_channel: str) -> str:
        """A live proxy asked to connect: the client's name in the sandbox."""
        self.counter += 1
        client = f"live{self.counter}"
        self.clients[client] = LiveClient(reply_channel=reply_channel)
        return client

    def forget(self, client: str) -> bool:
        """The client's proxy went away; False if it was not (or no longer) a client of this run."""
        return self.clients.pop(client, None) is not None

    async def refuse(self, reply_channel: str) -> None:
        """The run is over: a proxy that asks now is told there is no such run."""
        await self.layer.send(reply_channel, {"type": protocol.CONSUMER_REJECT, "code": 4404})

    async def route(self, kind: str, client: str, event: dict[str, Any]) -> None:
        """A sandbox event (one of protocol.CONSUMER_EVENTS) for one of these clients, passed on under its own name."""
        live = self.clients[client]
        if kind == protocol.CONSUMER_ACCEPT:
            live.accepted = True
            await self.send(
                client,
                {
                    "type": protocol.CONSUMER_ACCEPT,
                    "owner": self.owner_channel,
                    "client": client,
                    "subprotocol": event.get("subprotocol"),
                },
            )
        elif kind == protocol.CONSUMER_SEND:
            await self.send(client, {"type": protocol.CONSUMER_SEND, **frame(event)})
        else:
            ending = protocol.CONSUMER_CLOSE if live.accepted else protocol.CONSUMER_REJECT
            await self.send(client, {"type": ending, "code": event.get("code") or 403})
            self.clients.pop(client, None)

    async def send(self, client: str, message: dict[str, Any]) -> None:
        """A live client that stops reading fills its channel: its frames are dropped and counted, the run goes on."""
        live = self.clients[client]
        try:
            await self.layer.send(live.reply_channel, message)
        except ChannelFull:
            live.dropped += 1
            if live.dropped == 1:
                logger.warning("run %s: live client %s is not reading; dropping its frames", self.run_id, client)
                self.tell_page(
                    {
                        "type": "error",
                        "message": f"{client} is not reading its messages, so the ones for it are dropped "
                        "(its channel holds at most CHANNEL_LAYER_CAPACITY messages). The run goes on.",
                        "line": None,
                    }
                )

    async def tell_alive(self) -> None:
        """The owner's beat to its accepted clients' proxies: one that stops hearing it closes its client (4012)."""
        for client, live in list(self.clients.items()):
            if live.accepted:
                await quietly(self.send(client, {"type": OWNER_ALIVE}), f"telling {client} the run is alive")

    async def close_all(self) -> None:
        """The run ended: every client still connected is closed (going away), whatever state the layer is in."""
        for client, live in list(self.clients.items()):
            closing = {"type": protocol.CONSUMER_CLOSE if live.accepted else protocol.CONSUMER_REJECT, "code": 1001}
            await quietly(self.send(client, closing), f"closing {client}")
        self.clients.clear()
