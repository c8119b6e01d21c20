from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        ...  # everyone in this room hears "NAME: TEXT"

    async def disconnect(self, code):
        ...


websocket_urlpatterns = [
    path("ws/rooms/<slug:room>/", RoomConsumer.as_asgi()),
]
