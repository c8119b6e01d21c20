from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

SPOKEN = ("door.v2", "door.v1")  # best first
MAX_CHARS = 200
TOO_LONG = 4009  # an application code: Daphne sends only 1000 and 3000-4999


class DoorConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        offered = self.scope["subprotocols"]
        self.protocol = next((name for name in SPOKEN if name in offered), None)
        if self.protocol is None:
            await self.close()  # before accept(): the handshake is refused
            return
        await self.accept(subprotocol=self.protocol)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        if len(text_data) > MAX_CHARS:
            await self.send(text_data="too long", close=TOO_LONG)
        elif text_data == "leave":
            await self.send(text_data="bye", close=True)
        else:
            version = self.protocol.removeprefix("door.")
            await self.send(text_data=f"{version}: {text_data}")


websocket_urlpatterns = [
    path("ws/door/", DoorConsumer.as_asgi()),
]
