import json
import time

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

MEANINGS = {
    "cat": "a small furry animal",
    "ocean": "a very large sea",
    "mountain": "a very high hill",
    "tea": "a hot drink",
}
SLOW_WORDS = {"ocean", "mountain"}


def lookup(word):
    """A blocking call to a slow outside service (do not change it): 1 s for slow words, 50 ms for the rest."""
    time.sleep(1.0 if word in SLOW_WORDS else 0.05)
    return MEANINGS.get(word)


class DefineConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        text = text_data or ""
        word = text.removeprefix("define ")
        if text.startswith("define ") and word and " " not in word:
            await self.reply(looking=word)
            meaning = lookup(word)
            if meaning is None:
                await self.reply(word=word, error="unknown")
            else:
                await self.reply(word=word, meaning=meaning)
        elif text == "ping":
            await self.send(text_data="pong")
        else:
            await self.reply(error="send: define WORD, or ping")

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))


websocket_urlpatterns = [
    path("ws/define/", DefineConsumer.as_asgi()),
]
