# Chat room: every client connected to the same room receives every message sent in it.
# Connect two clients to /ws/chat/lobby/ (any room name made of word characters
# works) and send text from one of them: both receive {"text": ..., "mine": ...}.
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        await self.channel_layer.group_send(
            self.room_group_name,
            {"type": "chat.message", "text": text_data, "sender": self.channel_name},
        )

    async def chat_message(self, event):
        mine = event["sender"] == self.channel_name
        await self.send(text_data=json.dumps({"text": event["text"], "mine": mine}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)


websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room_name>\w+)/$", ChatConsumer.as_asgi()),
]
