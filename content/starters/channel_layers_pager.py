# Pager: send a message straight to one other connection, addressed by its channel name.
# Connect two clients, to /ws/pager/alice/ and /ws/pager/bob/, then send "bob: hi" from
# alice: bob receives "alice says: hi" and alice is told the page was queued.
# The name directory is a module-level dict, so it only works within one process.
from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

DIRECTORY = {}  # name -> channel name; real projects keep this in Redis or the database


class PagerConsumer(AsyncWebsocketConsumer):
    name = None

    async def connect(self):
        name = self.scope["url_route"]["kwargs"]["name"]
        if name in DIRECTORY:
            raise DenyConnection("that name is taken")
        self.name = name
        DIRECTORY[name] = self.channel_name
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        target, colon, text = (text_data or "").partition(":")
        channel = DIRECTORY.get(target.strip())
        if not colon or channel is None:
            await self.send(text_data="usage: <name>: <message>, to someone online")
            return
        page = {"type": "page.message", "sender": self.name, "text": text.strip()}
        await self.channel_layer.send(channel, page)
        await self.send(text_data=f"queued for {target.strip()}")

    async def page_message(self, event):
        await self.send(text_data=f"{event['sender']} says: {event['text']}")

    async def disconnect(self, code):
        if DIRECTORY.get(self.name) == self.channel_name:
            del DIRECTORY[self.name]


websocket_urlpatterns = [
    path("ws/pager/<slug:name>/", PagerConsumer.as_asgi()),
]
