# Fan-out meter: a room broadcast that measures how long each copy waited before it was handled.
# Connect two or more clients to /ws/meter/lobby/ and send any text: every member gets
# {"text", "lag_ms", "seen"}. Send "burst 5" to queue five broadcasts from one frame.
import json
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

MAX_BURST = 300


class MeterConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = "meter_" + self.scope["url_route"]["kwargs"]["room"]
        self.seen = 0
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if not text_data:
            return
        count = 1
        if text_data.startswith("burst ") and text_data[6:].isdecimal():
            count = min(int(text_data[6:]), MAX_BURST)
        for number in range(1, count + 1):
            event = {"type": "meter.tick", "text": f"{text_data} #{number}", "sent": time.monotonic()}
            await self.channel_layer.group_send(self.group, event)

    async def meter_tick(self, event):
        self.seen += 1
        lag_ms = round((time.monotonic() - event["sent"]) * 1000, 1)
        await self.send(text_data=json.dumps({"text": event["text"], "lag_ms": lag_ms, "seen": self.seen}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    re_path(r"^ws/meter/(?P<room>[a-z0-9_-]+)/$", MeterConsumer.as_asgi()),
]
