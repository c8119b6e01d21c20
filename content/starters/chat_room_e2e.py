# Chat room end to end: a JSON chat with nicknames, join/leave notices and recent history.
# Connect two clients to /ws/room/lobby/ with the queries name=ana and name=ben, then send
# {"action": "say", "text": "hi"} from one: both receive {"type": "message", ...}.
# {"action": "who"} lists the people in the room; anything else gets {"type": "error"}.
import json
from collections import deque
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

MAX_TEXT = 500
HISTORY = {}  # room -> deque of recent messages; one process only (use a database in production)
MEMBERS = {}  # room -> {channel_name: nickname}; same caveat


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.group = f"room.{self.room}"
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        self.name = (query.get("name") or ["guest"])[0].strip()[:20] or "guest"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        MEMBERS.setdefault(self.room, {})[self.channel_name] = self.name
        for old in HISTORY.get(self.room, ()):
            await self.send(text_data=json.dumps(old))
        await self.broadcast({"type": "joined", "name": self.name})

    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data or "")
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            await self.reply({"type": "error", "error": "send a JSON object"})
            return
        action = data.get("action")
        if action == "say":
            text = str(data.get("text", "")).strip()[:MAX_TEXT]
            if text:
                message = {"type": "message", "name": self.name, "text": text}
                HISTORY.setdefault(self.room, deque(maxlen=20)).append(message)
                await self.broadcast(message)
        elif action == "who":
            names = sorted(MEMBERS.get(self.room, {}).values())
            await self.reply({"type": "members", "names": names})
        else:
            await self.reply({"type": "error", "error": "unknown action"})

    async def reply(self, payload):
        await self.send(text_data=json.dumps(payload))

    async def broadcast(self, payload):
        await self.channel_layer.group_send(self.group, {"type": "room.event", "payload": payload})

    async def room_event(self, event):
        await self.send(text_data=json.dumps(event["payload"]))

    async def disconnect(self, code):
        MEMBERS.get(self.room, {}).pop(self.channel_name, None)
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.broadcast({"type": "left", "name": self.name})


websocket_urlpatterns = [
    re_path(r"^ws/room/(?P<room>[a-z0-9-]{1,40})/$", RoomConsumer.as_asgi()),
]
