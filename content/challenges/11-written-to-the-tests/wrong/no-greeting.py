import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

FINISHED = 4000


class ScoreConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        start = (parse_qs(self.scope["query_string"].decode()).get("start") or ["0"])[0]
        if not start.isdecimal():
            await self.close()  # before accept(): the test sees connected == False
            return
        self.team = self.scope["url_route"]["kwargs"]["team"]
        self.score = int(start)
        self.added = []  # additions not yet undone, newest last
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None and len(text_data) == 2 and text_data[0] == "+" and text_data[1] in "123456789":
            self.added.append(int(text_data[1]))
            self.score += self.added[-1]
            await self.reply(score=self.score)
        elif text_data == "undo":
            if self.added:
                self.score -= self.added.pop()
                await self.reply(score=self.score)
        elif text_data == "final":
            await self.reply(final=self.score)
            await self.close(code=FINISHED)
        else:
            await self.reply(error="unknown")

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))


websocket_urlpatterns = [
    path("ws/score/<slug:team>/", ScoreConsumer.as_asgi()),
]
