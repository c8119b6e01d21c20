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
        count = await self.count_tasks()  # the handshake waits; the event loop does not
        await self.accept()
        await self.reply(owner=self.owner, tasks=count)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            request = json.loads(text_data or "")
        except ValueError:
            request = None
        if isinstance(request, dict) and isinstance(request.get("add"), str) and request["add"].strip():
            count = await self.add_task(request["add"])
            await self.reply(added=request["add"], tasks=count)
        elif isinstance(request, dict) and request.get("list") is True:
            titles = await self.list_titles()
            await self.reply(titles=list(titles))
        else:
            await self.reply(error="bad-request")

    async def reply(self, **content):
        await self.send(text_data=json.dumps(content))

    @database_sync_to_async
    def count_tasks(self):
        return TASKS.count(self.owner)

    @database_sync_to_async
    def add_task(self, title):
        TASKS.create(self.owner, title)
        return TASKS.count(self.owner)

    @database_sync_to_async
    def list_titles(self):
        return TASKS.filter(self.owner)


websocket_urlpatterns = [
    path("ws/tasks/<slug:owner>/", TasksConsumer.as_asgi()),
]
