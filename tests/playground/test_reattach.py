"""A run survives its page's reload: the reloaded page attaches to it (page and workers mode), or learns how it ended
and gets its replay; live clients keep talking to the run while no page shows it; nobody attaches to another's run."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from playground.models import Run
from tests.conftest import COMMAND_SECONDS
from tests.playground.conftest import starter_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reattach(settings):
    settings.PLAYGROUND_REATTACH_SECONDS = 60


async def run_echo_with_a_client(page) -> tuple[int, str]:
    """Run the echo starter, have panel client c1 echo once; the run's id and its live URL."""
    await page.send(type="run", code=starter_code("echo"), starter="echo")
    live = await page.expect(lambda m: m["type"] == "live")
    await page.expect(lambda m: m["type"] == "status" and m["state"] == "running")
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    await page.send(type="client.send", client="c1", text="before the reload")
    await page.expect(lambda m: m["type"] == "consumer.send" and m.get("text") == "before the reload")
    return live["run"], live["url"]


async def wait_for_the_run_to_end(run_id: int) -> Run:
    """The Run row once it is closed (its owner records it when the run ends)."""
    async with asyncio.timeout(COMMAND_SECONDS):
        while True:
            run = await database_sync_to_async(Run.objects.get)(pk=run_id)
            if run.ended_at is not None:
                return run
            await asyncio.sleep(0.1)


async def echo_through(live_url: str, text: str) -> str:
    token = live_url.rstrip("/").rsplit("/", 1)[1]
    client = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    connected, _ = await client.connect(timeout=10)
    assert connected
    await client.send_to(text_data=text)
    answer = await client.receive_from(timeout=10)
    await client.disconnect()
    return answer


async def test_a_reloaded_page_attaches_to_its_run_and_carries_on(page_factory, reattach):
    first = await page_factory()
    run_id, live_url = await run_echo_with_a_client(first)
    await first.communicator.disconnect()  # the reload: the old page's socket closes

    assert await echo_through(live_url, "while no page shows the run") == "while no page shows the run"

    reloaded = await page_factory(first.user)
    await reloaded.send(type="attach", run=run_id)
    attached = await reloaded.expect(lambda m: m["type"] == "attached")
    assert attached == {"type": "attached", "run": run_id, "replay": f"/playground/runs/{run_id}/", "paused": False}
    await reloaded.expect(lambda m: m["type"] == "status" and m["state"] == "running")
    live = await reloaded.expect(lambda m: m["type"] == "live")
    assert live["url"] == live_url
    trace = await reloaded.expect(lambda m: m["type"] == "events")
    received = [row for row in trace["events"] if row["kind"] == "receive" and row["client"] == "c1"]
    assert received, "the trace so far comes with the attach"

    await reloaded.send(type="client.send", client="c1", text="after the reload")  # the same client, still open
    await reloaded.expect(lambda m: m["type"] == "consumer.send" and m.get("text") == "after the reload")
    await reloaded.send(type="stop")
    stopped = await reloaded.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert stopped["replay"] == f"/playground/runs/{run_id}/"
    run = await wait_for_the_run_to_end(run_id)
    assert run.end_reason == Run.EndReason.STOPPED


async def test_a_run_nobody_attaches_to_ends_and_the_late_page_gets_its_replay(page_factory, settings):
    settings.PLAYGROUND_REATTACH_SECONDS = 1
    first = await page_factory()
    run_id, _ = await run_echo_with_a_client(first)
    await first.communicator.disconnect()
    run = await wait_for_the_run_to_end(run_id)
    assert run.end_reason == Run.EndReason.PAGE_CLOSED
    assert run.end_detail == "the page was closed and not opened again within 1 s"
    assert run.event_count > 0  # the trace is kept for the replay

    late = await page_factory(first.user)
    await late.send(type="attach", run=run_id)
    stopped = await late.expect(lambda m: m["type"] == "status")
    assert stopped == {
        "type": "status",
        "state": "stopped",
        "reason": "the page was closed and not opened again within 1 s",
        "replay": f"/playground/runs/{run_id}/",
    }


async def test_nobody_attaches_to_another_learners_run(page_factory, reattach):
    owner = await page_factory()
    run_id, _ = await run_echo_with_a_client(owner)
    stranger = await page_factory()
    for hostile in ({"run": run_id}, {"run": str(run_id)}, {"run": True}, {}):
        await stranger.send(type="attach", **hostile)
        refused = await stranger.expect(lambda m: m["type"] == "error")
        assert refused["message"].startswith("attach:")
    await owner.send(type="client.send", client="c1", text="still mine")
    await owner.expect(lambda m: m["type"] == "consumer.send" and m.get("text") == "still mine")
    await owner.send(type="stop")
    await owner.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")


@pytest.mark.parametrize("page_factory", ["page"], indirect=True)
async def test_a_run_shown_on_its_open_page_is_not_taken_by_another_tab(page_factory, reattach):
    first = await page_factory()
    run_id, _ = await run_echo_with_a_client(first)
    second = await page_factory(first.user)
    await second.send(type="attach", run=run_id)
    refused = await second.expect(lambda m: m["type"] == "error")
    assert refused["message"] == "This run is shown on another open page."
    await first.send(type="stop")
    await first.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")


@pytest.mark.parametrize("page_factory", ["workers"], indirect=True)
async def test_a_second_tab_takes_a_worker_run_over_and_the_first_is_told(page_factory, reattach):
    first = await page_factory()
    run_id, _ = await run_echo_with_a_client(first)
    second = await page_factory(first.user)
    await second.send(type="attach", run=run_id)
    await second.expect(lambda m: m["type"] == "attached")
    told = await first.expect(lambda m: m["type"] == "status")
    assert told["reason"] == "This run is now shown on another page."
    await second.send(type="stop")
    await second.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")


async def test_a_paused_run_is_still_paused_on_the_reloaded_page_with_its_held_calls(page_factory, reattach):
    first = await page_factory()
    await first.send(type="run", code=starter_code("echo"), starter="echo")
    live = await first.expect(lambda m: m["type"] == "live")
    await first.expect(lambda m: m["type"] == "status" and m["state"] == "running")
    await first.send(type="pause", on=True)
    await first.send(type="client.connect", client="c1", path="/ws/echo/")
    held = await first.expect(lambda m: m["type"] == "paused")
    await first.communicator.disconnect()

    reloaded = await page_factory(first.user)
    await reloaded.send(type="attach", run=live["run"])
    attached = await reloaded.expect(lambda m: m["type"] == "attached")
    assert attached["paused"] is True
    still_held = await reloaded.expect(lambda m: m["type"] == "paused")
    assert still_held == held
    await reloaded.send(type="step")
    resumed = await reloaded.expect(lambda m: m["type"] == "resumed")
    assert resumed["id"] == held["id"]
    await reloaded.send(type="pause", on=False)
    await reloaded.expect(lambda m: m["type"] == "consumer.accept" and m["client"] == "c1")
    await reloaded.send(type="stop")
    await reloaded.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
