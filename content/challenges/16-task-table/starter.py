import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path
from django.utils.asyncio import async_unsafe

QUERY_SECONDS = 0.02


class LazyTitles:
    """Like a queryset: nothing is read until it is iterated, and iterating is a query."""

    def __init__(self, rows, owner):
        self.rows, self.owner = rows, owner

    @async_unsafe
    def __iter__(self):
        time.sleep(QUERY_SECONDS)
        return iter([title for owner, title in self.rows if owner == self.owner])


class TaskTable:
    """Stands in for Task.objects. Do not change it: every query blocks and refuses the event loop."""

    def __init__(self):
        self.rows = []  # (owner, title), oldest first

    @async_unsafe
    def create(self, owner, title):
        time.sleep(QUERY_SECONDS)
        self.rows.append((owner, title))

    @async_unsafe
    def count(self, owner):
        time.sleep(QUERY_SECONDS)
        return sum(1 for row_owner, _ in self.rows if row_owner == owner)

    def filter(self, owner):
        return LazyTitles(self.rows, owner)


TASKS = TaskTable()


class TasksConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.owner = self.scope["url_route"]["kwargs"]["owner"]
        await self.accept()  # count the owner's tasks first, then greet

    async def receive(self, text_data=None, bytes_data=None):
        ...  # {"add": ...}, {"list": true}, anything else


websocket_urlpatterns = [
    path("ws/tasks/<slug:owner>/", TasksConsumer.as_asgi()),
]
