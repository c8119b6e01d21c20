from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

GREETINGS = {"fr": "bonjour"}


class HelloConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        name = self.scope["url_route"]["kwargs"]["name"]
        query = parse_qs(self.scope["query_string"])
        lang = (query.get("lang") or [""])[0]
        await self.accept()
        await self.send(text_data=f"{GREETINGS.get(lang, 'hello')} {name}")


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=text_data)


websocket_urlpatterns = [
    path("ws/hello/<slug:name>/", HelloConsumer.as_asgi()),
    path("ws/echo/", EchoConsumer.as_asgi()),
]

application = ProtocolTypeRouter({"websocket": URLRouter(websocket_urlpatterns)})
