# Scope report: what the server and the routers hand to a consumer once everything is wired.
# Connect a client to /ws/scope/lobby/ (any slug works; add ?debug=1 to fill the query
# string) and it sends one JSON report of its scope. Send "headers" to list the header
# names the handshake carried; any other text gets a short help message.
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class ScopeReportConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        await self.accept()
        user = self.scope.get("user")
        report = {
            "type": self.scope["type"],
            "path": self.scope["path"],
            "query_string": self.scope["query_string"].decode("latin-1"),
            "room": self.room,
            "user": str(user) if user is not None else None,
            "has_channel_layer": self.channel_layer is not None,
        }
        await self.send(text_data=json.dumps(report))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "headers":
            names = sorted({name.decode("latin-1") for name, _ in self.scope["headers"]})
            await self.send(text_data=json.dumps({"headers": names}))
        else:
            await self.send(text_data='send "headers" to list the handshake headers')

    async def disconnect(self, code):
        self.closed_with = code


websocket_urlpatterns = [
    path("ws/scope/<slug:room>/", ScopeReportConsumer.as_asgi()),
]
