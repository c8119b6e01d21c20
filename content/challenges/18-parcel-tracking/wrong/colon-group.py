import json

from asgiref.sync import async_to_sync, sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.urls import path

SCANS = {}  # parcel -> places, oldest first: stands in for the Scan table


def parcel_group(parcel):
    return f"parcel:{parcel}"


def record_scan(parcel, place):
    """Synchronous, as a view or a task would be: save, then tell the parcel's trackers."""
    SCANS.setdefault(parcel, []).append(place)
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(parcel_group(parcel), {"type": "parcel.scanned", "parcel": parcel, "place": place})
    return len(SCANS[parcel])


class TrackConsumer(AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        self.parcel = self.scope["url_route"]["kwargs"]["parcel"]
        self.group = parcel_group(self.parcel)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        history = list(SCANS.get(self.parcel, []))
        await self.send(text_data=json.dumps({"parcel": self.parcel, "history": history}))

    async def parcel_scanned(self, event):
        await self.send(text_data=json.dumps({"parcel": event["parcel"], "place": event["place"]}))

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


class DepotConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        try:
            scan = json.loads(text_data or "")
        except ValueError:
            scan = None
        fields = ("parcel", "place")
        if not (isinstance(scan, dict) and all(isinstance(scan.get(f), str) and scan[f] for f in fields)):
            await self.send(text_data=json.dumps({"error": "bad-scan"}))
            return
        scans = await sync_to_async(record_scan)(scan["parcel"], scan["place"])  # sync code off the event loop
        await self.send(text_data=json.dumps({"recorded": scan["parcel"], "scans": scans}))


websocket_urlpatterns = [
    path("ws/track/<slug:parcel>/", TrackConsumer.as_asgi()),
    path("ws/depot/", DepotConsumer.as_asgi()),
]
