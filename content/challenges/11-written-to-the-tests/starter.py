import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

FINISHED = 4000


class ScoreConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()  # read start, greet with the team and the score

    async def receive(self, text_data=None, bytes_data=None):
        ...  # +N, undo, final, anything else


websocket_urlpatterns = [
    path("ws/score/<slug:team>/", ScoreConsumer.as_asgi()),
]
