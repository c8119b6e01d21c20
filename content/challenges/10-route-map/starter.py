import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path


class AdminConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()  # before accept(): the handshake is refused


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"room": ...}))


class ItemConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"item": ...}))


class StatusConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"api": ...}))


websocket_urlpatterns = [
    # ws/rooms/admin/, ws/rooms/<room>/, ws/items/<item_id>/, ws/v1|v2/status/
]
