import asyncio

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

STEP_SECONDS = 0.5


class JobConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.job = None
        await self.accept()
        await self.send(text_data="ready")

    def running(self):
        return self.job is not None and not self.job.done()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return
        if text_data == "start":
            if self.running():
                await self.send(text_data="busy")
                return
            await self.send(text_data="started")
            self.job = asyncio.create_task(self.run_job())  # receive() returns: the next frame is served at once
        elif text_data == "status":
            await self.send(text_data="running" if self.running() else "idle")
        else:
            await self.send(text_data="unknown command")

    async def run_job(self):
        for percent in (25, 50, 75, 100):
            await asyncio.sleep(STEP_SECONDS)
            await self.send(text_data=f"progress {percent}")

    async def disconnect(self, code):
        if self.running():
            self.job.cancel()


websocket_urlpatterns = [
    path("ws/job/", JobConsumer.as_asgi()),
]
