# Who am I: reports what the server process knows about this connection, as a proxy shapes it.
# Connect to /ws/whoami/ (try adding an X-Forwarded-For header) and read the first message;
# send "ping" for "pong", or "info" to get the report again.
import json
import os

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class WhoAmIConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in self.scope["headers"]}
        self.peer = self.scope.get("client")
        self.forwarded_for = headers.get("x-forwarded-for", "")
        self.origin = headers.get("origin", "")
        self.process = os.getpid()
        await self.accept()
        await self.send(text_data=self.report())

    def report(self):
        return json.dumps(
            {
                "peer": self.peer,
                "x_forwarded_for": self.forwarded_for,
                "origin": self.origin,
                "process": self.process,
                "channel": self.channel_name,
            }
        )

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "ping":
            await self.send(text_data="pong")
        elif text_data == "info":
            await self.send(text_data=self.report())


websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
