import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

REACHABLE = {}  # name -> channel name of its newest connection


class PagerConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.name = self.scope["url_route"]["kwargs"]["name"]
        await self.accept()  # make the name reachable, then send {"you": name}

    async def receive(self, text_data=None, bytes_data=None):
        ...  # {"to": ..., "text": ...}: send to that name's channel through self.channel_layer

    async def page_message(self, event):
        ...  # a page for this client


websocket_urlpatterns = [
    path("ws/pager/<slug:name>/", PagerConsumer.as_asgi()),
]
