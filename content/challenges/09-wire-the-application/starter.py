from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path


class HelloConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        ...  # accept, then greet the name from the path (in French for ?lang=fr)


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        ...  # send text frames back unchanged


application = ...  # a ProtocolTypeRouter around a URLRouter with both routes
