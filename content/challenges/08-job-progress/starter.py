import asyncio

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

STEP_SECONDS = 0.5


class JobConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.job = None
        await self.accept()
        await self.send(text_data="ready")

    async def receive(self, text_data=None, bytes_data=None):
        ...  # start, status, anything else

    async def run_job(self):
        ...  # started, progress 25 ... progress 100 every STEP_SECONDS, done


websocket_urlpatterns = [
    path("ws/job/", JobConsumer.as_asgi()),
]
