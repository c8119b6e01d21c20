# Countdown: one request, many replies pushed over the same long-lived connection.
# Connect a client to /ws/countdown/ and send a whole number, e.g. "3": the server
# pushes "3", "2", "1" and "liftoff", half a second apart, without being asked again.
# The socket stays open afterwards; `launches` counts the countdowns of this connection.
import asyncio

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

MAX_START = 5


class CountdownConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.launches = 0
        await self.accept()
        await self.send(text_data=f"send a number from 1 to {MAX_START}")

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or not text_data.strip().isdecimal():
            await self.send(text_data="numbers only, please")
            return
        start = min(int(text_data), MAX_START)
        self.launches += 1
        for n in range(start, 0, -1):
            await self.send(text_data=str(n))
            await asyncio.sleep(0.5)
        await self.send(text_data="liftoff")

    async def disconnect(self, code):
        self.close_code = code


websocket_urlpatterns = [
    path("ws/countdown/", CountdownConsumer.as_asgi()),
]
