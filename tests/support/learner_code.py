"""Learner consumers the playground tests run in the sandbox."""

# Sends back as many frames as the number it receives: a flood of trace events on demand.
BURST = """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

class Burst(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        for n in range(int(text_data)):
            await self.send(text_data=str(n))

websocket_urlpatterns = [path("ws/burst/", Burst.as_asgi())]
"""
