# Error lab: reproduces common Channels errors on demand, so you can read each message in context.
# Connect to /ws/errors/ and send one of: missing-handler, bad-group, async-to-sync, no-await, empty-send.
# Most commands end the consumer with an exception (close 1011); reconnect to try the next one.
import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

COMMANDS = ["missing-handler", "bad-group", "async-to-sync", "no-await", "empty-send"]


class ErrorLabConsumer(AsyncWebsocketConsumer):
    groups = ["lab"]

    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"commands": COMMANDS}))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "missing-handler":
            # The type names a handler (lab_mesage) that this class does not define.
            await self.channel_layer.group_send("lab", {"type": "lab.mesage", "text": "hi"})
        elif text_data == "bad-group":
            # Spaces are not allowed in group names.
            await self.channel_layer.group_add("lab room", self.channel_name)
        elif text_data == "async-to-sync":
            # async_to_sync is for sync code; here an event loop is already running.
            async_to_sync(self.channel_layer.group_send)("lab", {"type": "lab.message", "text": "hi"})
        elif text_data == "no-await":
            # Creates a coroutine and drops it: nothing is sent.
            self.send(text_data="you will never see this")
        elif text_data == "empty-send":
            await self.send()
        else:
            await self.send(text_data=json.dumps({"unknown": text_data, "commands": COMMANDS}))

    async def lab_message(self, event):
        await self.send(text_data=event["text"])


websocket_urlpatterns = [
    path("ws/errors/", ErrorLabConsumer.as_asgi()),
]
