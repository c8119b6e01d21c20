from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

SPOKEN = ("door.v2", "door.v1")  # best first
MAX_CHARS = 200


class DoorConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        ...  # choose a subprotocol from self.scope["subprotocols"], or refuse

    async def receive(self, text_data=None, bytes_data=None):
        ...  # answer, say bye, or close a frame that is too long


websocket_urlpatterns = [
    path("ws/door/", DoorConsumer.as_asgi()),
]
