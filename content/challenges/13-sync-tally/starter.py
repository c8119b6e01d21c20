import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.urls import path

TOTALS = {}  # board -> total: shared by every connection of this process


class TallyConsumer(WebsocketConsumer):
    def connect(self):
        self.board = self.scope["url_route"]["kwargs"]["board"]
        self.accept()  # join the board's group first; then send the board's total

    def receive(self, text_data=None, bytes_data=None):
        ...  # +N: add to the board's total and tell the whole board


websocket_urlpatterns = [
    path("ws/tally/<slug:board>/", TallyConsumer.as_asgi()),
]
