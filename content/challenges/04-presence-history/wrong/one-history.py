from collections import deque
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path

HISTORY = 3
# room -> {"users": set of names, "history": the last messages}; the sandbox runs every consumer in this process
ROOMS = {}
SHARED_HISTORY = deque(maxlen=HISTORY)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room"]
        self.group = "chat-" + self.room_name
        self.name = (parse_qs(self.scope["query_string"].decode()).get("name") or ["anonymous"])[0]
        self.room = ROOMS.setdefault(self.room_name, {"users": set()})
        self.room["history"] = SHARED_HISTORY
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.room["users"].add(self.name)
        await self.send_json({"type": "history", "messages": list(self.room["history"])})
        await self.announce_presence()

    async def receive_json(self, content, **kwargs):
        message = {"name": self.name, "text": str(content.get("text", ""))}
        self.room["history"].append(message)
        await self.channel_layer.group_send(self.group, {"type": "chat.event", "event": {"type": "message", **message}})

    async def disconnect(self, code):
        if hasattr(self, "room"):
            self.room["users"].discard(self.name)
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.announce_presence()

    async def announce_presence(self):
        users = sorted(self.room["users"])
        await self.channel_layer.group_send(self.group, {"type": "chat.event", "event": {"type": "presence", "users": users}})

    async def chat_event(self, event):
        await self.send_json(event["event"])


websocket_urlpatterns = [
    path("ws/chat/<slug:room>/", ChatConsumer.as_asgi()),
]
