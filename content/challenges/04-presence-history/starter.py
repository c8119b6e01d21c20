from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path

# room -> its members and recent messages (the sandbox runs every consumer in this one process)
ROOMS = {}


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        ...  # history to the newcomer, then presence to the room

    async def receive_json(self, content, **kwargs):
        ...  # a message to the room, remembered in its history

    async def disconnect(self, code):
        ...  # presence to those who stay


websocket_urlpatterns = [
    path("ws/chat/<slug:room>/", ChatConsumer.as_asgi()),
]
