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
        if len(text_data) > MAX_CHARS:
            await self.close(code=TOO_BIG)
            return
        try:
            request = json.loads(text_data)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            await self.reply(error="bad-json")
        elif "note" in request:
            if not isinstance(request["note"], str):
                await self.reply(error="bad-note")
                return
            self.notes.append(request["note"])
            await self.reply(saved=len(self.notes))
        elif request.get("list") is True:
            await self.reply(notes=self.notes)
        else:
            await self.reply(error="unknown")

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))


websocket_urlpatterns = [
    path("ws/notes/", NotesConsumer.as_asgi()),
]
