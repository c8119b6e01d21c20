# Work outside consumers: plain synchronous code (a view, a signal, a task) pushes to sockets.
# Connect a customer to /ws/orders/42/ and the shop to /ws/shop/, then send "42 shipped"
# from the shop: the customer receives {"order": 42, "status": "shipped"}. The shop's
# receive() runs mark_order(), synchronous code written exactly as a view would be.
import json

from asgiref.sync import async_to_sync, sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.urls import path

ORDERS = {42: "paid", 43: "paid"}  # stands in for the Order table
STATUSES = {"paid", "packed", "shipped", "delivered"}


def order_group(order_id):
    return f"order.{order_id}"


def mark_order(order_id, status):
    """Synchronous, like a view or a post_save receiver: save, then notify the sockets."""
    ORDERS[order_id] = status
    channel_layer = get_channel_layer()
    async_to_sync(channel_layer.group_send)(
        order_group(order_id), {"type": "order.status", "order": order_id, "status": status}
    )


class OrderConsumer(AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        self.order_id = self.scope["url_route"]["kwargs"]["order_id"]
        if self.order_id not in ORDERS:
            await self.close()
            return
        self.group = order_group(self.order_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"order": self.order_id, "status": ORDERS[self.order_id]}))

    async def order_status(self, event):
        await self.send(text_data=json.dumps({"order": event["order"], "status": event["status"]}))

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


class ShopConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        order, _, status = (text_data or "").partition(" ")
        if not order.isdigit() or int(order) not in ORDERS or status not in STATUSES:
            await self.send(text_data="usage: <order id> <status>, e.g. 42 shipped")
            return
        await sync_to_async(mark_order)(int(order), status)
        await self.send(text_data=f"order {order} is now {status}")


websocket_urlpatterns = [
    path("ws/orders/<int:order_id>/", OrderConsumer.as_asgi()),
    path("ws/shop/", ShopConsumer.as_asgi()),
]
