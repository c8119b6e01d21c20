"""RunSession alone, with a scripted sandbox: each sandbox event reaches the part whose job it is."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from playground.models import Run
from playground.run.session import RunSession
from tests.factories import make_user
from tests.support.page_protocol import unbatch


class ScriptedSandbox:
    """Plays the events a test feeds it and keeps the operations it is sent; stopping it makes it exit."""

    def __init__(self) -> None:
        self.feed: asyncio.Queue[dict | None] = asyncio.Queue()
        self.ops: list[dict] = []

    async def load(self, code: str) -> None:
        self.feed.put_nowait({"type": "loaded"})

    async def events(self):
        while (event := await self.feed.get()) is not None:
            yield event

    async def send(self, op: dict) -> None:
        self.ops.append(op)

    async def stop(self, reason: str) -> None:
        self.exit("stopped")

    def exit(self, reason: str, detail: str = "") -> None:
        self.feed.put_nowait({"type": "exit", "reason": reason, "detail": detail})
        self.feed.put_nowait(None)


@database_sync_to_async
def new_run() -> Run:
    now = timezone.now()
    return Run.objects.create(learner=make_user(), code="", starter="test", started_at=now, heartbeat_at=now)


async def start_session() -> tuple[RunSession, ScriptedSandbox, list[dict]]:
    run, sandbox, page = await new_run(), ScriptedSandbox(), []

    async def notify(message: dict) -> None:
        page.extend(unbatch(message))

    layer = get_channel_layer()
    owner_channel = await layer.new_channel()
    session = RunSession(
        run=run, learner=run.learner, sandbox=sandbox, notify=notify, channel_layer=layer, owner_channel=owner_channel
    )

    async def live_url(token: str) -> None:
        """The owner hands the URL to its page; these tests look at what the run sends after it."""

    await session.start("", live_url)
    return session, sandbox, page


async def test_events_are_recorded_sent_to_the_page_and_a_limit_is_why_the_run_ended(transactional_db):
    session, sandbox, page = await start_session()
    for event in (
        {"type": "trace", "kind": "connect", "client": "c1"},
        {"type": "consumer.accept", "client": "c1", "subprotocol": None},
        {"type": "trace", "kind": "receive", "client": "c1"},
        {"type": "output", "text": "hi\n"},
        {"type": "limit", "what": "cpu", "detail": "a process used its 5 s of CPU"},
    ):
        sandbox.feed.put_nowait(event)
    sandbox.exit("limit", "reported by the sandbox")
    await asyncio.wait_for(session.pump_task, 10)
    assert [m["type"] for m in page] == ["status", "events", "consumer.accept", "events", "output", "status"]
    assert page[-1]["state"] == "stopped" and page[-1]["reason"] == "cpu limit reached: a process used its 5 s of CPU"
    run = await database_sync_to_async(Run.objects.get)(pk=session.run.pk)
    assert (run.end_reason, run.event_count, run.events_truncated) == (Run.EndReason.LIMIT, 2, False)
    assert run.events == [{"kind": "connect", "client": "c1"}, {"kind": "receive", "client": "c1"}]


async def test_a_live_client_is_connected_through_the_sandbox_and_closed_when_the_owner_stops(transactional_db):
    session, sandbox, page = await start_session()
    layer = get_channel_layer()
    proxy = await layer.new_channel()
    await session.live_connect(proxy, "/ws/echo/", "", [])
    assert sandbox.ops == [
        {"type": "client.connect", "client": "live1", "path": "/ws/echo/", "query": "", "subprotocols": []}
    ]
    sandbox.feed.put_nowait({"type": "consumer.accept", "client": "live1", "subprotocol": None})
    accepted = await asyncio.wait_for(layer.receive(proxy), 5)
    assert accepted["type"] == "consumer.accept" and accepted["client"] == "live1"
    await session.stop(Run.EndReason.PAGE_CLOSED)
    assert await asyncio.wait_for(layer.receive(proxy), 5) == {"type": "consumer.close", "code": 1001}
    assert not any(m["type"] == "consumer.accept" for m in page)  # a live client's traffic is not the page's
    run = await database_sync_to_async(Run.objects.get)(pk=session.run.pk)
    assert run.end_reason == Run.EndReason.PAGE_CLOSED and session.ended
    await session.live_connect(proxy, "/", "", [])
    assert await asyncio.wait_for(layer.receive(proxy), 5) == {"type": "consumer.reject", "code": 4404}
