import json

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.urls import path

SITE_ORIGINS = ["https://academy.example"]


def visitor_address(scope):
    """The last X-Forwarded-For entry, added by our one proxy; the entries before it are the client's word."""
    headers = dict(scope["headers"])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    return entries[-1] if entries else scope["client"][0]


class WhoAmIConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"ip": visitor_address(self.scope)}))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "ping":
            await self.send(text_data="pong")


websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
application = URLRouter(websocket_urlpatterns)
