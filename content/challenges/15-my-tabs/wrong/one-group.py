import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class TabsConsumer(AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close()  # before accept(): the handshake is refused
            return
        self.username = user.get_username()
        self.group = "tabs"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"hello": self.username}))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        if text_data == "whoami":
            await self.send(text_data=json.dumps({"username": self.username}))
            return
        await self.channel_layer.group_send(self.group, {"type": "note.shared", "note": text_data})

    async def note_shared(self, event):
        await self.send(text_data=json.dumps({"note": event["note"]}))

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    path("ws/tabs/", TabsConsumer.as_asgi()),
]
