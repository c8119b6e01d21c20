import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path


class AdminConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()  # before accept(): the handshake is refused


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"room": self.scope["url_route"]["kwargs"]["room"]}))


class ItemConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"item": self.scope["url_route"]["kwargs"]["item_id"]}))


class StatusConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        version = int(self.scope["url_route"]["kwargs"]["version"])  # re_path captures text
        await self.send(text_data=json.dumps({"api": version}))


websocket_urlpatterns = [
    path("ws/rooms/admin/", AdminConsumer.as_asgi()),  # before the pattern that would also match it
    path("ws/rooms/<slug:room>/", RoomConsumer.as_asgi()),
    path("ws/items/<int:item_id>/", ItemConsumer.as_asgi()),
    re_path(r"^ws/v(?P<version>[12])/status/$", StatusConsumer.as_asgi()),
]
