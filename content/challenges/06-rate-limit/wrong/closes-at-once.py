import time
from collections import deque

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

LIMIT = 5  # messages
WINDOW = 10.0  # seconds
REFUSALS_BEFORE_CLOSE = 3
TOO_MANY = 4008


class LimitedConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.recent = deque()  # monotonic times of the messages answered in the last WINDOW seconds
        self.refused = 0
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= WINDOW:
            self.recent.popleft()
        if len(self.recent) < LIMIT:
            self.recent.append(now)
            await self.send(text_data=f"ok: {text_data}")
            return
        self.refused += 1
        if self.refused >= 1:
            await self.close(code=TOO_MANY)
        else:
            await self.send(text_data="slow down")


websocket_urlpatterns = [
    path("ws/limited/", LimitedConsumer.as_asgi()),
]
