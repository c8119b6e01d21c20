# Routing demo: two consumers behind a nested URLRouter, each reporting its url_route.
# Connect to /ws/rooms/lobby/ or /ws/items/42/; the first message says which consumer
# answered and what the router captured. Any other path has no route.
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path, re_path


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        await self.accept()
        await self.send(text_data=json.dumps({"consumer": "room", "room": self.room}))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=f"[{self.room}] {text_data}")


class ItemConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.item_id = self.scope["url_route"]["kwargs"]["item_id"]
        await self.accept()
        report = {"consumer": "item", "item_id": self.item_id}
        report["python_type"] = type(self.item_id).__name__
        await self.send(text_data=json.dumps(report))


websocket_urlpatterns = [
    path(
        "ws/",
        URLRouter(
            [
                re_path(r"^rooms/(?P<room>[a-z0-9_-]+)/$", RoomConsumer.as_asgi()),
                path("items/<int:item_id>/", ItemConsumer.as_asgi()),
            ]
        ),
    ),
]
