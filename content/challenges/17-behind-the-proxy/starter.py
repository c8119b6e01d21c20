import json

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.urls import path

SITE_ORIGINS = ["https://academy.example"]


class WhoAmIConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"ip": ...}))  # the visitor's address, as the proxy saw it

    async def receive(self, text_data=None, bytes_data=None):
        ...  # ping -> pong


websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
application = URLRouter(websocket_urlpatterns)  # only the site's own pages may connect
