import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

LIMIT = 5  # messages
WINDOW = 10.0  # seconds


class LimitedConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=f"ok: {text_data}")  # add the limit


websocket_urlpatterns = [
    path("ws/limited/", LimitedConsumer.as_asgi()),
]
