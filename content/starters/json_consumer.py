# JSON calculator: a synchronous JsonWebsocketConsumer that does arithmetic.
# Connect to /ws/calc/ and send {"op": "add", "a": 2, "b": 3}; it receives {"result": 5}.
# Supported ops: add, sub, mul. Anything else gets {"error": "..."} back.
import json

from channels.generic.websocket import JsonWebsocketConsumer
from django.urls import path

OPERATIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
}


class CalculatorConsumer(JsonWebsocketConsumer):
    def connect(self):
        self.accept()

    @classmethod
    def decode_json(cls, text_data):
        # The default json.loads() raises on bad input and crashes the consumer;
        # returning None lets receive_json() answer with an error instead.
        try:
            return json.loads(text_data)
        except json.JSONDecodeError:
            return None

    def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            self.send_json({"error": "send a JSON object"})
            return
        operation = OPERATIONS.get(content.get("op"))
        a, b = content.get("a"), content.get("b")
        numbers = all(isinstance(n, (int, float)) for n in (a, b))
        if operation is None or not numbers:
            self.send_json({"error": "expected op add|sub|mul and numbers a and b"})
            return
        self.send_json({"result": operation(a, b)})


websocket_urlpatterns = [
    path("ws/calc/", CalculatorConsumer.as_asgi()),
]
