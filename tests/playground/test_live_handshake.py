"""Issue 20 item 3: a live client that connects the moment the page has the live URL waits for the run, then connects."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from playground.run import session as session_module
from tests.playground.conftest import starter_code

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_live_client_connecting_as_soon_as_the_url_is_out_waits_for_the_run(page_factory, monkeypatch):
    announce = session_module.aannounce

    async def slow_announce(*args, **kwargs):
        await asyncio.sleep(1)  # the start of a run on a busy database (the learner's cohorts are looked up)
        await announce(*args, **kwargs)

    monkeypatch.setattr(session_module, "aannounce", slow_announce)
    page = await page_factory()
    await page.send(type="run", code=starter_code("echo"), starter="echo")
    live = await page.expect(lambda m: m["type"] == "live")
    token = live["url"].split("/ws/live/", 1)[1].strip("/")
    early = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    connected, _ = await early.connect(timeout=30)
    assert connected, "the early live client was refused instead of waiting for the run"
    await early.send_to(text_data="early bird")
    assert await early.receive_from(timeout=30) == "early bird"
    await early.disconnect()
    await page.send(type="stop")
