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
        if text_data and text_data.startswith("define "):
            word = text_data.removeprefix("define ")
            meaning = lookup(word)  # this blocks every socket of the process for as long as it takes
            await self.send(text_data=json.dumps({"word": word, "meaning": meaning}))


websocket_urlpatterns = [
    path("ws/define/", DefineConsumer.as_asgi()),
]
