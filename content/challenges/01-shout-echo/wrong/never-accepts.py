from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        pass  # forgot: await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return  # a binary frame: nothing to shout
        await self.send(text_data=text_data.upper())


websocket_urlpatterns = [
    path("ws/shout/", ShoutConsumer.as_asgi()),
]
