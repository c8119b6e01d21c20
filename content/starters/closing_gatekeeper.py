# Gatekeeper: refusing a handshake, choosing a subprotocol, and closing with codes.
# Connect a client to /ws/gate/?name=Ada to be let in; without a name the handshake
# is refused (HTTP 403). Once in, send "bye" for a normal close (1000), a binary frame
# to be closed with 4003, or more than 50 characters to be closed with 4009.
from urllib.parse import parse_qs

from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

SUBPROTOCOLS = ["chat.v2", "chat.v1"]  # preferred first
MAX_CHARS = 50


class GateConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        self.name = query.get("name", [""])[0].strip()[:30]
        if not self.name:
            raise DenyConnection("a name is required")
        offered = self.scope["subprotocols"]
        chosen = next((p for p in SUBPROTOCOLS if p in offered), None)
        if offered and chosen is None:
            await self.close()  # we speak none of the client's protocols
            return
        await self.accept(subprotocol=chosen)
        await self.send(text_data=f"welcome, {self.name}")

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self.close(code=4003)  # this endpoint is text-only
        elif len(text_data) > MAX_CHARS:
            await self.send(text_data="too long", close=4009)
        elif text_data == "bye":
            await self.send(text_data=f"goodbye, {self.name}", close=True)
        else:
            await self.send(text_data=f"{self.name}: {text_data}")

    async def disconnect(self, code):
        self.close_code = code


websocket_urlpatterns = [
    path("ws/gate/", GateConsumer.as_asgi()),
]
