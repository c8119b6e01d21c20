import asyncio
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

FEED = []  # post texts; a post's id is its position + 1
GROUP = "feed"
IDLE_SECONDS = 1.5
IDLE = 4000


class FeedConsumer(AsyncWebsocketConsumer):
    idle_timer = None
    joined = False

    async def connect(self):
        since = (parse_qs(self.scope["query_string"].decode()).get("since") or ["0"])[0]
        if not since.isdecimal():
            await self.close()  # before accept(): the handshake is refused
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)  # before reading the feed: nothing is missed
        self.joined = True
        await self.accept()
        newest = len(FEED)
        for number in range(int(since) + 1, newest + 1):
            await self.reply(id=number, post=FEED[number - 1])
        await self.reply(caught_up=newest)
        self.restart_idle_timer()

    async def receive(self, text_data=None, bytes_data=None):
        self.restart_idle_timer()  # any frame at all shows the client is alive
        try:
            message = json.loads(text_data or "")
        except ValueError:
            message = None
        if isinstance(message, dict) and isinstance(message.get("post"), str) and message["post"]:
            FEED.append(message["post"])
            await self.channel_layer.group_send(GROUP, {"type": "feed.post", "id": len(FEED), "post": message["post"]})
        elif isinstance(message, dict) and "ping" in message:
            await self.reply(pong=message["ping"])
        else:
            await self.reply(error="unknown")

    async def feed_post(self, event):
        await self.reply(id=event["id"], post=event["post"])

    def restart_idle_timer(self):
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.idle_timer = asyncio.create_task(self.close_when_idle())

    async def close_when_idle(self):
        await asyncio.sleep(IDLE_SECONDS)
        await self.close(code=IDLE)

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))

    async def disconnect(self, code):
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.joined:
            await self.channel_layer.group_discard(GROUP, self.channel_name)


websocket_urlpatterns = [
    path("ws/feed/", FeedConsumer.as_asgi()),
]
