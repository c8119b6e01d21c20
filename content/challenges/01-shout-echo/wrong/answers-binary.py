from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        text = text_data if text_data is not None else repr(bytes_data)
        await self.send(text_data=text.upper())


websocket_urlpatterns = [
    path("ws/shout/", ShoutConsumer.as_asgi()),
]
