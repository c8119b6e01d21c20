# JSON reply: answers every text frame with a JSON object holding the text in capitals.
# Connect a client to /ws/reply/ and send "hello"; it receives {"reply": "HELLO"}.
# A binary frame gets {"error": "..."} back instead of a reply.
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self.send(text_data=json.dumps({"error": "send text, not bytes"}))
            return
        await self.send(text_data=json.dumps({"reply": text_data.upper()}))


websocket_urlpatterns = [
    path("ws/reply/", ShoutConsumer.as_asgi()),
]
