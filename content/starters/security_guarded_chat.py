# Guarded chat: a room consumer hardened against the usual kinds of WebSocket abuse.
# Connect two clients to /ws/guarded/lobby/ and send {"text": "hi"}: both receive it.
# Foreign origins are refused; frames over 1000 characters close the socket (4009);
# more than 5 messages in 3 seconds, extra fields or non-JSON get an error frame.
import json
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import OriginValidator
from django.urls import re_path

ALLOWED_ORIGINS = ["http://playground", "https://chat.example.com"]
MAX_FRAME_CHARS = 1000
MAX_TEXT = 300
RATE_LIMIT = 5  # messages per window
RATE_WINDOW = 3.0  # seconds


class GuardedChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = "guarded." + self.scope["url_route"]["kwargs"]["room"]
        self.name = self.scope["user"].get_username() or "guest"
        self.recent = []
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.close(code=4009)
            return
        if not self.within_rate():
            await self.reply_error("too many messages, slow down")
            return
        try:
            data = json.loads(text_data)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or set(data) != {"text"} or not isinstance(data["text"], str):
            await self.reply_error('send exactly {"text": "..."}')
            return
        text = data["text"].strip()[:MAX_TEXT]
        if text:
            await self.channel_layer.group_send(
                self.group, {"type": "chat.message", "name": self.name, "text": text}
            )

    def within_rate(self):
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < RATE_WINDOW]
        if len(self.recent) >= RATE_LIMIT:
            return False
        self.recent.append(now)
        return True

    async def reply_error(self, reason):
        await self.send(text_data=json.dumps({"type": "error", "error": reason}))

    async def chat_message(self, event):
        payload = {"type": "message", "name": event["name"], "text": event["text"]}
        await self.send(text_data=json.dumps(payload))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    re_path(
        r"^ws/guarded/(?P<room>[a-z0-9-]{1,30})/$",
        OriginValidator(GuardedChatConsumer.as_asgi(), ALLOWED_ORIGINS),
    ),
]
