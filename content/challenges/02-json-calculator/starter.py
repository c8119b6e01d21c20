from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path


class CalculatorConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive_json(self, content, **kwargs):
        ...  # answer {"id", "result"} or {"id", "error"} as the brief's table says


websocket_urlpatterns = [
    path("ws/calc/", CalculatorConsumer.as_asgi()),
]
