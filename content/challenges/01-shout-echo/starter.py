from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        ...  # accept the connection

    async def receive(self, text_data=None, bytes_data=None):
        ...  # answer text frames in upper case; ignore binary ones


websocket_urlpatterns = [
    path("ws/shout/", ShoutConsumer.as_asgi()),
]
