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
    async def connect(self):
        await self.accept()  # check since; join the group; replay after since; say caught_up; start the idle timer

    async def receive(self, text_data=None, bytes_data=None):
        ...  # post, ping, anything else; every frame restarts the idle timer

    async def close_when_idle(self):
        await asyncio.sleep(IDLE_SECONDS)
        await self.close(code=IDLE)


websocket_urlpatterns = [
    path("ws/feed/", FeedConsumer.as_asgi()),
]
