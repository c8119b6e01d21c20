"""Workers mode in one process: what only a page that relays its run to a worker does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from playground.live import live_group_name
from playground.models import Run
from playground.relay import ask
from tests.playground.conftest import starter_code

pytestmark = pytest.mark.django_db(transaction=True)
workers_only = pytest.mark.parametrize("page_factory", ["workers"], indirect=True)


@pytest.fixture
async def no_worker(transactional_db, settings):
    """Workers mode with nobody listening on the worker channel, and a short wait for one."""
    settings.PLAYGROUND_EXECUTION = "workers"
    settings.PLAYGROUND_WORKER_START_SECONDS = 0.5
    yield
    await get_channel_layer().flush()  # the request nobody took must not reach a later test's worker


async def test_a_run_nobody_takes_stops_within_the_start_time_and_closes_its_record(no_worker):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application
    from tests.factories import make_user
    from tests.playground.conftest import Page, session_headers

    headers = await database_sync_to_async(session_headers)(await database_sync_to_async(make_user)())
    communicator = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
    assert (await communicator.connect())[0]
    page = Page(communicator)
    await page.send(type="run", code=starter_code("echo"))
    stopped = await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert stopped["reason"].startswith("No playground worker answered within 0.5 seconds")
    run = await database_sync_to_async(Run.objects.get)()
    assert run.end_reason == "start_failed" and run.ended_at is not None
    assert run.ended_at - run.started_at >= timedelta(seconds=0.5)  # it waited the start time, not less
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    refused = await page.expect(lambda m: m["type"] == "error")
    assert refused["message"] == "Run your code first; nothing is running."
    await communicator.disconnect()


@workers_only
async def test_a_worker_run_owner_answers_while_its_run_lives_and_leaves_when_it_ends(page_factory):
    page = await page_factory()
    live_url = await page.run(starter_code("echo"))
    token = live_url.split("/ws/live/", 1)[1].strip("/")
    layer = get_channel_layer()
    proxy = await layer.new_channel()
    await layer.group_send(
        live_group_name(token),
        {"type": "client.connect", "reply_channel": proxy, "path": "/ws/echo/", "query": "", "subprotocols": []},
    )
    owner = (await asyncio.wait_for(layer.receive(proxy), 10))["owner"]
    await page.send(type="stop")
    await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    late_stop = {"type": "run.stop", "reason": "stopped", "detail": ""}
    assert await ask(layer, owner, late_stop, timeout=1) is None


@workers_only
async def test_a_replaced_run_ends_on_its_worker_and_the_page_hears_only_the_new_one(page_factory):
    page = await page_factory()
    await page.run(starter_code("echo"))
    first = await database_sync_to_async(Run.objects.get)()
    page.seen.clear()
    await page.run(starter_code("echo"))
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    await database_sync_to_async(first.refresh_from_db)()
    assert first.end_reason == "stopped" and first.end_detail == "a new run replaced it"
    statuses = [m["state"] for m in page.seen if m["type"] == "status"]
    assert statuses == ["starting", "running"]
