# Authenticated notes: every open tab of the same logged-in user shares one feed of notes.
# Connect two clients to /ws/notes/ (the playground connects them as you, logged in) and
# send text from one: both tabs receive {"from": ..., "tab": ..., "note": ...}. Send
# "whoami" to see scope["user"]. A client with no user (a live client) gets HTTP 403.
import json

from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class NotesConsumer(AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            raise DenyConnection("log in first")
        self.username = user.get_username()
        self.tab = self.scope["client"][1]
        self.group = f"user.{user.pk}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        if text_data == "whoami":
            user = self.scope["user"]
            facts = {"username": user.get_username(), "pk": user.pk, "staff": user.is_staff}
            await self.send(text_data=json.dumps(facts))
            return
        await self.channel_layer.group_send(
            self.group,
            {"type": "note.added", "author": self.username, "tab": self.tab, "note": text_data[:200]},
        )

    async def note_added(self, event):
        await self.send(
            text_data=json.dumps({"from": event["author"], "tab": event["tab"], "note": event["note"]})
        )

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


websocket_urlpatterns = [
    path("ws/notes/", NotesConsumer.as_asgi()),
]
