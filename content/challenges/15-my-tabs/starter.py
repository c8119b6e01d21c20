import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class TabsConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        await self.accept()  # refuse anonymous visitors; join this user's tabs; greet

    async def receive(self, text_data=None, bytes_data=None):
        ...  # whoami, or a note for every tab of this user


websocket_urlpatterns = [
    path("ws/tabs/", TabsConsumer.as_asgi()),
]
