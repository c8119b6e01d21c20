from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = "room-" + self.scope["url_route"]["kwargs"]["room"]
        query = parse_qs(self.scope["query_string"].decode())
        self.name = (query.get("name") or ["anonymous"])[0]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        await self.send(text_data=f"{self.name}: {text_data}")

    async def chat_message(self, event):
        await self.send(text_data=event["text"])

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    path("ws/rooms/<slug:room>/", RoomConsumer.as_asgi()),
]
