"""Learner-style consumer modules the functional tests run in the sandbox."""

ASYNC_COUNTER = """
from channels.generic.websocket import AsyncWebsocketConsumer

class CounterConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.count = 0
        self.name = "counter"
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.count += 1
        await self.send(text_data=f"{self.count}:{text_data}")
"""

SYNC_GROUPS = """
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

class BroadcastConsumer(WebsocketConsumer):
    def connect(self):
        async_to_sync(self.channel_layer.group_add)("everyone", self.channel_name)
        self.accept()

    def receive(self, text_data=None, bytes_data=None):
        async_to_sync(self.channel_layer.group_send)("everyone", {"type": "broadcast", "text": text_data})

    def broadcast(self, event):
        self.send(text_data="all:" + event["text"])

    def disconnect(self, code):
        async_to_sync(self.channel_layer.group_discard)("everyone", self.channel_name)
"""

ASYNC_JSON = """
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class AdderConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.send_json({"sum": content["a"] + content["b"]})
"""

SYNC_JSON = """
from channels.generic.websocket import JsonWebsocketConsumer

class UpperConsumer(JsonWebsocketConsumer):
    def receive_json(self, content, **kwargs):
        self.send_json({"upper": content["word"].upper()})
"""

CHAT = """
import json
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        message = json.loads(text_data)["message"]
        await self.channel_layer.group_send(self.room_group_name, {"type": "chat.message", "message": message})

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room_name>\\w+)/$", ChatConsumer.as_asgi()),
]
"""

SUBPROTOCOL = """
from channels.generic.websocket import AsyncWebsocketConsumer

class ProtoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        offered = self.scope["subprotocols"]
        await self.accept(subprotocol="chat.v2" if "chat.v2" in offered else None)
"""

DENY = """
from channels.exceptions import DenyConnection
from channels.generic.websocket import AsyncWebsocketConsumer

class GuardConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        if self.scope["user"].is_anonymous:
            raise DenyConnection("login first")
        await self.accept()
"""

CLOSE_BEFORE_ACCEPT = """
from channels.generic.websocket import WebsocketConsumer

class RefuseConsumer(WebsocketConsumer):
    def connect(self):
        self.close()
"""

CLOSE_CODE = """
from channels.generic.websocket import AsyncWebsocketConsumer

class QuitConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "bye":
            await self.close(code=4001)
"""

RAISES_IN_RECEIVE = """
from channels.generic.websocket import AsyncWebsocketConsumer

class BrokenConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        numbers = {"one": 1}
        await self.send(text_data=str(numbers[text_data]))
"""

USES_DATABASE = """
from django.db import connection
from channels.generic.websocket import WebsocketConsumer

class DbConsumer(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
"""
