import json

from asgiref.sync import async_to_sync, sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.urls import path

SCANS = {}  # parcel -> places, oldest first: stands in for the Scan table


def record_scan(parcel, place):
    """Synchronous, as a view or a task would be: save, then tell the parcel's trackers."""
    SCANS.setdefault(parcel, []).append(place)
    ...  # tell the trackers of this parcel through the channel layer
    return len(SCANS[parcel])


class TrackConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.parcel = self.scope["url_route"]["kwargs"]["parcel"]
        await self.accept()  # listen for this parcel's scans; send its history


class DepotConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        ...  # check the scan, call record_scan, answer


websocket_urlpatterns = [
    path("ws/track/<slug:parcel>/", TrackConsumer.as_asgi()),
    path("ws/depot/", DepotConsumer.as_asgi()),
]
