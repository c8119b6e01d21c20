# Basket: an AsyncJsonWebsocketConsumer with its own JSON decoding and encoding.
# Connect a client to /ws/basket/ and send {"item": "tea", "price": "2.50"}: it replies
# {"items": 1, "total": "2.50", "last": "tea"}. Send {"clear": true} to start again.
# Broken JSON, a JSON value that is not an object, or a bad price gets {"error": ...}.
import json
from decimal import Decimal, InvalidOperation

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import path


class BasketConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.items = 0
        self.total = Decimal("0.00")
        await self.accept()

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except json.JSONDecodeError:
            return None  # not a dict, so receive_json() answers with an error

    @classmethod
    async def encode_json(cls, content):
        return json.dumps(content, cls=DjangoJSONEncoder)  # Decimal -> "2.50"

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_json({"error": "send a JSON object"})
            return
        if content.get("clear") is True:
            self.items, self.total = 0, Decimal("0.00")
            await self.send_json({"items": 0, "total": self.total})
            return
        try:
            price = Decimal(str(content["price"]))
        except (KeyError, InvalidOperation):
            await self.send_json({"error": "price must be a number or a numeric string"})
            return
        if not price.is_finite() or price < 0:
            await self.send_json({"error": "price must be zero or more"})
            return
        self.items += 1
        self.total += price
        name = str(content.get("item", "item"))[:40]
        await self.send_json({"items": self.items, "total": self.total, "last": name})


websocket_urlpatterns = [
    path("ws/basket/", BasketConsumer.as_asgi()),
]
