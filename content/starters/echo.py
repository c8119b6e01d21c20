# Echo: accepts every connection and sends each text frame straight back.
# Connect a client to /ws/echo/ and send any text; the same text comes back.
# Binary frames are ignored; `received` counts the text frames seen so far.
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.received = 0
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        self.received += 1
        await self.send(text_data=text_data)

    async def disconnect(self, code):
        self.close_code = code


websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
]
