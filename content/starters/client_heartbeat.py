# Heartbeat: the server side of a browser client that pings, measures round trips and reconnects.
# Connect to /ws/heartbeat/ and send {"type": "ping", "t": 1000}: the reply is {"type": "pong", "t": 1000, "seq": N}.
# Every frame resets an idle timer; a client silent for IDLE_LIMIT seconds is closed with code 4000.
import asyncio
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

IDLE_LIMIT = 30


class HeartbeatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.seq = 0
        self.watchdog = None
        await self.accept()
        await self.send_event({"type": "hello", "idle_limit": IDLE_LIMIT})
        self.restart_watchdog()

    async def receive(self, text_data=None, bytes_data=None):
        self.restart_watchdog()
        try:
            message = json.loads(text_data or "")
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            await self.send_event({"type": "error", "detail": "send a JSON object"})
        elif message.get("type") == "ping":
            await self.send_event({"type": "pong", "t": message.get("t")})
        else:
            await self.send_event({"type": "echo", "data": message})

    async def send_event(self, event):
        self.seq += 1
        await self.send(text_data=json.dumps({**event, "seq": self.seq}))

    def restart_watchdog(self):
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.watchdog = asyncio.get_running_loop().call_later(IDLE_LIMIT, self.close_idle)

    def close_idle(self):
        asyncio.ensure_future(self.close(code=4000))

    async def disconnect(self, code):
        if self.watchdog is not None:
            self.watchdog.cancel()


websocket_urlpatterns = [
    path("ws/heartbeat/", HeartbeatConsumer.as_asgi()),
]
