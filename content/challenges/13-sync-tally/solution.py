import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.urls import path

TOTALS = {}  # board -> total: shared by every connection of this process


class TallyConsumer(WebsocketConsumer):
    def connect(self):
        self.board = self.scope["url_route"]["kwargs"]["board"]
        self.group = f"tally.{self.board}"
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        self.send(text_data=json.dumps({"total": TOTALS.get(self.board, 0)}))

    def receive(self, text_data=None, bytes_data=None):
        text = text_data or ""
        if not (text.startswith("+") and text[1:].isdecimal() and 1 <= int(text[1:]) <= 99):
            self.send(text_data=json.dumps({"error": "send +N"}))
            return
        added = int(text[1:])
        TOTALS[self.board] = TOTALS.get(self.board, 0) + added
        async_to_sync(self.channel_layer.group_send)(
            self.group, {"type": "tally.changed", "total": TOTALS[self.board], "added": added}
        )

    def tally_changed(self, event):
        self.send(text_data=json.dumps({"total": event["total"], "added": event["added"]}))

    def disconnect(self, code):
        async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)


websocket_urlpatterns = [
    path("ws/tally/<slug:board>/", TallyConsumer.as_asgi()),
]
