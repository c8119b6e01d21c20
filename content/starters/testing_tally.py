# Tally: a consumer with a small, exact protocol, the kind you pin down with tests.
# Connect to /ws/tally/?start=5 (or /ws/tally/ to start at 0) and send +3, -1, reset or bye.
# Every good frame is answered {"total": N}, anything else {"error": ...}; bye closes with 4000.
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class TallyConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope["query_string"].decode())
        try:
            self.total = int(query.get("start", ["0"])[0])
        except ValueError:
            await self.close()
            return
        await self.accept()
        await self.send(text_data=json.dumps({"total": self.total}))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "bye":
            await self.send(text_data=json.dumps({"final": self.total}), close=4000)
            return
        if text_data == "reset":
            self.total = 0
        elif text_data and text_data[0] in "+-" and text_data[1:].isdecimal():
            self.total += int(text_data)
        else:
            await self.send(text_data=json.dumps({"error": "send +N, -N, reset or bye"}))
            return
        await self.send(text_data=json.dumps({"total": self.total}))

    async def disconnect(self, code):
        self.closed_with = code


websocket_urlpatterns = [
    path("ws/tally/", TallyConsumer.as_asgi()),
]
