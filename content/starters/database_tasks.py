# Database access: an async consumer that runs every "query" through database_sync_to_async.
# Connect to /ws/tasks/ and send {"add": "buy milk"} or {"list": true}: you receive JSON.
# The playground has no database, so a dict plays the Task table and each query sleeps
# 50 ms in a worker thread, the way a real query would block while the database answers.
import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

TASKS = {}  # owner -> list of titles: stands in for Task.objects
QUERY_SECONDS = 0.05


def wait_for_database():
    time.sleep(QUERY_SECONDS)  # blocking: fine in a worker thread, never on the event loop


class TasksConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.owner = self.scope["user"].get_username() or "guest"
        self.count = await self.count_tasks()
        await self.accept()
        await self.send(text_data=json.dumps({"owner": self.owner, "tasks": self.count}))

    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data or "")
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("add"), str) and data["add"].strip():
            self.count = await self.add_task(data["add"].strip()[:100])
            await self.send(text_data=json.dumps({"added": True, "tasks": self.count}))
        elif isinstance(data, dict) and data.get("list") is True:
            titles = await self.list_titles()
            await self.send(text_data=json.dumps({"titles": titles}))
        else:
            await self.send(text_data=json.dumps({"error": 'send {"add": "..."} or {"list": true}'}))

    @database_sync_to_async
    def count_tasks(self):
        wait_for_database()
        return len(TASKS.get(self.owner, []))

    @database_sync_to_async
    def add_task(self, title):
        wait_for_database()
        titles = TASKS.setdefault(self.owner, [])
        titles.append(title)
        return len(titles)

    @database_sync_to_async
    def list_titles(self):
        wait_for_database()
        return list(TASKS.get(self.owner, []))  # a plain list, never a lazy queryset


websocket_urlpatterns = [
    path("ws/tasks/", TasksConsumer.as_asgi()),
]
