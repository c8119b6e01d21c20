import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

REACHABLE = {}  # name -> channel name of its newest connection


class PagerConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.name = self.scope["url_route"]["kwargs"]["name"]
        REACHABLE[self.name] = self.channel_name  # a newer connection takes the name over
        await self.accept()
        await self.reply(you=self.name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            request = json.loads(text_data or "")
        except ValueError:
            request = None
        fields = ("to", "text")
        if not (isinstance(request, dict) and all(isinstance(request.get(field), str) for field in fields)):
            await self.reply(error="bad-request")
            return
        channel = REACHABLE.get(request["to"])
        if channel is None:
            await self.reply(error="offline", to=request["to"])
            return
        await self.channel_layer.send(channel, {"type": "page.message", "from": self.name, "text": request["text"]})
        await self.reply(sent=request["to"])

    async def page_message(self, event):
        await self.reply(**{"from": event["from"], "text": event["text"]})

    async def disconnect(self, code):
        REACHABLE.pop(self.name, None)

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))


websocket_urlpatterns = [
    path("ws/pager/<slug:name>/", PagerConsumer.as_asgi()),
]
