import operator

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path

OPERATIONS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class CalculatorConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_json({"id": None, "error": "text-only"})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"id": None, "error": "invalid-json"})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_json({"id": None, "error": "invalid-json"})
            return
        request_id = content.get("id")
        operation = OPERATIONS.get(content.get("op"))
        a, b = content.get("a"), content.get("b")
        if operation is None:
            await self.send_json({"id": request_id, "error": "unknown-op"})
            await self.close()
        elif not (is_number(a) and is_number(b)):
            await self.send_json({"id": request_id, "error": "bad-arguments"})
            await self.close()
        elif content["op"] == "div" and b == 0:
            await self.send_json({"id": request_id, "error": "division-by-zero"})
            await self.close()
        else:
            await self.send_json({"id": request_id, "result": operation(a, b)})


websocket_urlpatterns = [
    path("ws/calc/", CalculatorConsumer.as_asgi()),
]
