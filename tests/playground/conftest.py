"""Fixtures for playground tests: a signed-in WebSocket to the real ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels.worker import Worker
from django.conf import settings
from django.test import Client

from config.asgi import application
from tests.factories import make_user
from tests.support.page_protocol import unbatch


def starter_code(name: str) -> str:
    return (Path(settings.CONTENT_DIR) / "starters" / f"{name}.py").read_text()


def run_starter_until_live(page, starter: str, timeout: float = 30) -> str:
    """On a synchronous playground socket: run a starter, wait until it is running, return its live URL."""
    page.send(json.dumps({"type": "run", "code": starter_code(starter), "starter": starter}))
    live_url, running = None, False
    while not running:
        for message in unbatch(json.loads(page.recv(timeout=timeout))):
            live_url = message["url"] if message["type"] == "live" else live_url
            running = running or (message["type"] == "status" and message["state"] == "running")
    return live_url


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]


class Page:
    """A playground page's socket, with helpers to wait for the message a test expects."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.seen: list[dict] = []
        self.unread: list[dict] = []
        self.batches = 0

    async def send(self, **message) -> None:
        await self.communicator.send_to(text_data=json.dumps(message))

    async def next_message(self, timeout: float) -> dict:
        """The next message, with `batch` envelopes opened (the page handles their messages one by one)."""
        if not self.unread:
            self.batches += 1
            message = json.loads(await self.communicator.receive_from(timeout=timeout))
            self.unread = unbatch(message)
        return self.unread.pop(0)

    async def expect(self, predicate, timeout: float = 30.0) -> dict:
        """Read messages until one matches; every message read is kept in `seen`. (The wait for each message is
        generous: a sandbox can take seconds to start on a loaded machine.)"""
        while True:
            message = await self.next_message(timeout)
            self.seen.append(message)
            if predicate(message):
                return message

    async def run(self, code: str) -> str:
        """Start a run and wait until it is running; returns the live URL."""
        await self.send(type="run", code=code, starter="test")
        live = await self.expect(lambda m: m["type"] == "live")
        await self.expect(lambda m: m["type"] == "status" and m["state"] in ("running", "stopped"))
        return live["url"]


async def start_run_worker() -> asyncio.Task:
    """What `manage.py runworker playground-runs` runs, as a task on this event loop and this test's channel layer."""
    worker = Worker(application, [settings.PLAYGROUND_WORKER_CHANNEL], get_channel_layer())
    return asyncio.create_task(worker.arun())


@pytest.fixture(params=["page", "workers"])
async def page_factory(request, transactional_db, settings):
    """Playground pages, run by their own socket (page) or by a worker in this process (workers)."""
    settings.PLAYGROUND_EXECUTION = request.param
    pages = []
    workers = []

    async def open_page(user=None) -> Page:
        from channels.db import database_sync_to_async

        # Started with the first page, inside the test, so it uses the channel layer the test may override.
        if request.param == "workers" and not workers:
            workers.append(await start_run_worker())
        user = user or await database_sync_to_async(make_user)()
        headers = await database_sync_to_async(session_headers)(user)
        communicator = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        page = Page(communicator)
        page.user = user
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        await page.communicator.disconnect()
    for worker in workers:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
