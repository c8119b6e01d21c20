# Sync vs async: one counter written twice, as a WebsocketConsumer and as an AsyncWebsocketConsumer.
# Connect one client to /ws/sync/ and another to /ws/async/ and send any text to each:
# every reply names the kind of thread that ran the handler. Send "relay" to bounce a
# message off the channel layer: async_to_sync() in the sync consumer, await in the async one.
import asyncio

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer
from django.urls import path


def thread_kind():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return "a worker thread"
    return "the event loop thread"


class SyncCounterConsumer(WebsocketConsumer):
    def connect(self):
        self.count = 0
        self.accept()

    def receive(self, text_data=None, bytes_data=None):
        self.count += 1
        if text_data == "relay":
            message = {"type": "relay.back", "count": self.count}
            async_to_sync(self.channel_layer.send)(self.channel_name, message)
            return
        self.send(text_data=f"sync #{self.count} ran in {thread_kind()}")

    def relay_back(self, event):
        self.send(text_data=f"sync relay #{event['count']} ran in {thread_kind()}")


class AsyncCounterConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.count = 0
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.count += 1
        if text_data == "relay":
            message = {"type": "relay.back", "count": self.count}
            await self.channel_layer.send(self.channel_name, message)
            return
        await self.send(text_data=f"async #{self.count} ran in {thread_kind()}")

    async def relay_back(self, event):
        await self.send(text_data=f"async relay #{event['count']} ran in {thread_kind()}")


websocket_urlpatterns = [
    path("ws/sync/", SyncCounterConsumer.as_asgi()),
    path("ws/async/", AsyncCounterConsumer.as_asgi()),
]
