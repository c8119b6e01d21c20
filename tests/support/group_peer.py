"""A consumer process for the cross-process Redis test: joins a group, relays client text to it, and prints what the group delivers."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402


class GroupPeerConsumer(AsyncWebsocketConsumer):
    """Minimal group member: every client message goes to the group; every group message goes to the client."""

    async def connect(self) -> None:
        self.group = self.scope["url_route"]["kwargs"]["group"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(self.group, {"type": "peer.message", "text": text_data, "pid": os.getpid()})

    async def peer_message(self, event: dict) -> None:
        await self.send(text_data=json.dumps({"text": event["text"], "from_pid": event["pid"]}))


async def main(group: str, send_after_ready: str | None) -> None:
    from channels.routing import URLRouter
    from django.urls import path

    app = URLRouter([path("peer/<str:group>/", GroupPeerConsumer.as_asgi())])
    communicator = WebsocketCommunicator(app, f"/peer/{group}/")
    connected, _ = await communicator.connect()
    assert connected
    print(json.dumps({"ready": os.getpid()}), flush=True)
    if send_after_ready:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await communicator.send_to(text_data=send_after_ready)
    message = await communicator.receive_from(timeout=10)
    print(message, flush=True)
    await communicator.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
