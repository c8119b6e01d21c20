"""The playground socket: runs, client operations, limits and hostile messages, through config.asgi."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from config.asgi import application
from playground.consumers import CLOSE_NOT_SIGNED_IN
from playground.models import Run
from tests.playground.conftest import starter_code
from tests.support.learner_code import BURST
from tests.support.page_protocol import unbatch

pytestmark = pytest.mark.django_db(transaction=True)


async def test_playground_socket_refuses_anonymous_visitors():
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    communicator = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
    assert await communicator.connect() == (False, CLOSE_NOT_SIGNED_IN)


async def test_playground_socket_refuses_foreign_origin(page_factory):
    communicator = WebsocketCommunicator(application, "/ws/playground/", headers=[(b"origin", b"https://evil.example")])
    connected, code = await communicator.connect()
    assert not connected and code != CLOSE_NOT_SIGNED_IN


async def test_echo_run_round_trip_and_run_record(page_factory):
    page = await page_factory()
    await page.run(starter_code("echo"))
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept" and m["client"] == "c1")
    await page.send(type="client.send", client="c1", text="hello")
    reply = await page.expect(lambda m: m["type"] == "consumer.send")
    assert reply == {"type": "consumer.send", "client": "c1", "text": "hello"}
    await page.send(type="stop")
    stopped = await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert stopped["reason"] == "Stopped by the learner"
    run = await database_sync_to_async(Run.objects.get)()
    assert run.end_reason == "stopped" and run.ended_at is not None
    assert [e["kind"] for e in run.events][:4] == ["connect", "accept", "receive", "send"]
    assert run.event_count == len(run.events)


async def test_syntax_error_reports_the_line(page_factory):
    page = await page_factory()
    await page.send(
        type="run", code="from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass A(:\n    pass\n"
    )
    error = await page.expect(lambda m: m["type"] == "error")
    assert error["line"] == 3
    stopped = await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert stopped["reason"]


async def test_no_consumer_class_is_explained(page_factory):
    page = await page_factory()
    await page.send(type="run", code="x = 1\n")
    error = await page.expect(lambda m: m["type"] == "error")
    assert "consumer" in error["message"].lower()


async def test_exception_in_receive_points_at_learner_line(page_factory):
    page = await page_factory()
    code = starter_code("echo").replace("await self.send(text_data=text_data)", "raise ValueError('boom')")
    assert "raise ValueError('boom')" in code
    line = next(number for number, text in enumerate(code.splitlines(), 1) if "boom" in text)
    await page.run(code)
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    await page.send(type="client.send", client="c1", text="x")
    error = await page.expect(lambda m: m["type"] == "error")
    assert error["line"] == line and "boom" in error["message"]


async def test_a_run_whose_connect_raises_records_the_error_at_once_and_its_total(page_factory):
    page = await page_factory()
    code = starter_code("echo").replace("await self.accept()", "raise RuntimeError('no entry')", 1)
    assert "no entry" in code
    await page.run(code)
    run = await database_sync_to_async(Run.objects.get)()
    assert run.error_count == 0
    for client in ("c1", "c2"):
        await page.send(type="client.connect", client=client, path="/ws/echo/")
        error = await page.expect(lambda m: m["type"] == "error")
        assert "no entry" in error["message"]
    await run.arefresh_from_db()
    assert run.error_count == 1 and run.ended_at is None  # counted while the run goes on
    await page.send(type="stop")
    await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    await run.arefresh_from_db()
    assert (run.end_reason, run.error_count) == (Run.EndReason.STOPPED, 2)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "Messages must be JSON objects with a type."),
        (json.dumps([1, 2]), "Messages must be JSON objects with a type."),
        (json.dumps({"type": "chat.message"}), "Unknown message type 'chat.message'."),
        (json.dumps({"type": "websocket.disconnect"}), "Unknown message type 'websocket.disconnect'."),
        (json.dumps({"type": ["run"]}), "Unknown message type \"['run']\"."),
        (json.dumps({"type": "client.send", "client": "c1", "text": "x"}), "Run your code first; nothing is running."),
        (json.dumps({"type": "run", "code": 42}), "A run needs the code as text."),
    ],
)
async def test_hostile_browser_messages_get_clear_errors(page_factory, message, expected):
    page = await page_factory()
    await page.communicator.send_to(text_data=message)
    error = await page.expect(lambda m: m["type"] == "error")
    assert error["message"] == expected


async def test_browser_message_size_limit_at_edge(page_factory, settings):
    settings.PLAYGROUND_MAX_BROWSER_MESSAGE_BYTES = 2000
    page = await page_factory()
    padding = 2000 - len(json.dumps({"type": "stop", "pad": ""}))
    await page.communicator.send_to(text_data=json.dumps({"type": "stop", "pad": "x" * padding}))
    await page.communicator.send_to(text_data=json.dumps({"type": "stop", "pad": "x" * (padding + 1)}))
    error = await page.expect(lambda m: m["type"] == "error")
    assert "size limit" in error["message"]
    assert len(page.seen) == 1  # the message at the limit was accepted silently (nothing was running)


async def test_client_message_size_limit_at_edge(page_factory, settings):
    settings.PLAYGROUND_LIMITS = {"max_message_bytes": 100}
    from playground.run.limits import run_limits

    run_limits.cache_clear()
    try:
        page = await page_factory()
        await page.run(starter_code("echo"))
        await page.send(type="client.connect", client="c1", path="/ws/echo/")
        await page.expect(lambda m: m["type"] == "consumer.accept")
        await page.send(type="client.send", client="c1", text="a" * 100)
        assert (await page.expect(lambda m: m["type"] in ("consumer.send", "error")))["type"] == "consumer.send"
        await page.send(type="client.send", client="c1", text="a" * 101)
        error = await page.expect(lambda m: m["type"] == "error")
        assert "at most 100 bytes" in error["message"]
    finally:
        run_limits.cache_clear()


async def test_client_names_reserved_for_live_clients_are_refused(page_factory):
    page = await page_factory()
    await page.run(starter_code("echo"))
    await page.send(type="client.connect", client="live1", path="/ws/echo/")
    error = await page.expect(lambda m: m["type"] == "error")
    assert "kept for live clients" in error["message"]


async def test_concurrent_run_limit_at_edge(page_factory, settings):
    settings.PLAYGROUND_MAX_CONCURRENT_RUNS = 2
    first = await page_factory()
    user = first.user
    second = await page_factory(user)
    third = await page_factory(user)
    await first.run(starter_code("echo"))
    await second.run(starter_code("echo"))
    await third.send(type="run", code=starter_code("echo"))
    refused = await third.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert "You already have 2 runs going (at most 2)" in refused["reason"]
    await first.send(type="stop")
    await first.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    await third.run(starter_code("echo"))
    assert third.seen[-1]["state"] == "running"


async def test_runs_per_minute_limit_at_edge(page_factory, settings):
    settings.PLAYGROUND_RUNS_PER_MINUTE = 3
    page = await page_factory()
    for _ in range(3):
        await page.run(starter_code("echo"))
        assert page.seen[-1]["state"] == "running"
    await page.send(type="run", code=starter_code("echo"))
    refused = await page.expect(lambda m: m["type"] == "status" and m["reason"] and "a minute" in m["reason"])
    assert refused["reason"].startswith("At most 3 runs a minute")
    assert await database_sync_to_async(Run.objects.count)() == 3


async def test_a_sandbox_that_cannot_start_is_explained_and_its_run_closed(page_factory, monkeypatch):
    from playground import sandbox_supply

    async def refuse():
        raise sandbox_supply.SandboxUnavailable("The playground is switched off on this server: no bubblewrap")

    monkeypatch.setattr(sandbox_supply, "acquire", refuse)
    page = await page_factory()
    await page.send(type="run", code=starter_code("echo"))
    stopped = await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert stopped["reason"] == "The playground is switched off on this server: no bubblewrap"
    run = await database_sync_to_async(Run.objects.get)()
    assert run.end_reason == "start_failed" and run.ended_at is not None
    await page.send(type="stop")
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    assert (await page.expect(lambda m: m["type"] == "error"))["message"] == "Run your code first; nothing is running."


async def test_closing_the_page_ends_the_run(page_factory):
    page = await page_factory()
    await page.run(starter_code("echo"))
    await page.communicator.disconnect()
    run = await database_sync_to_async(Run.objects.get)()
    assert run.end_reason == "page_closed"


async def test_live_url_reaches_the_consumer_and_unknown_token_is_refused(page_factory):
    page = await page_factory()
    live_url = await page.run(starter_code("echo"))
    token = live_url.rstrip("/").rsplit("/", 1)[1]
    external = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    connected, _ = await external.connect(timeout=5)
    assert connected
    await external.send_to(text_data="outside")
    assert await external.receive_from(timeout=5) == "outside"
    await external.disconnect()
    stranger = WebsocketCommunicator(application, "/ws/live/" + "x" * 32 + "/ws/echo/")
    assert await stranger.connect(timeout=10) == (False, 4404)
    await page.send(type="stop")
    await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    late = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    assert await late.connect(timeout=10) == (False, 4404)


async def test_print_output_reaches_the_console(page_factory):
    page = await page_factory()
    code = starter_code("echo").replace(
        "await self.send(text_data=text_data)", "print('seen', text_data)\n        await self.send(text_data=text_data)"
    )
    await page.run(code)
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    await page.send(type="client.send", client="c1", text="ping")
    output = await page.expect(lambda m: m["type"] == "output")
    assert "seen ping" in output["text"]


async def test_a_limit_ends_the_run_and_says_which(page_factory, settings):
    from playground.run.limits import run_limits

    settings.PLAYGROUND_LIMITS = {"cpu_seconds": 1}
    run_limits.cache_clear()
    try:
        page = await page_factory()
        code = starter_code("echo").replace("await self.send(text_data=text_data)", "while True:\n            pass")
        await page.run(code)
        await page.send(type="client.connect", client="c1", path="/ws/echo/")
        await page.expect(lambda m: m["type"] == "consumer.accept")
        await page.send(type="client.send", client="c1", text="spin")
        stopped = await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped", timeout=20)
        assert "cpu limit reached" in stopped["reason"]
        run = await database_sync_to_async(Run.objects.get)()
        assert run.end_reason == "limit"
    finally:
        run_limits.cache_clear()


async def test_cohort_instructor_watches_a_run_live_and_strangers_cannot(page_factory):
    from cohorts.models import Membership
    from tests.factories import make_cohort, make_user
    from tests.playground.conftest import session_headers

    page = await page_factory()
    instructor = await database_sync_to_async(make_user)("watcher", instructor=True)
    await database_sync_to_async(make_cohort)(instructor, learners=[page.user])
    stranger = await database_sync_to_async(make_user)("peeker", instructor=True)
    classmate = await database_sync_to_async(make_user)("classmate")  # a learner of no cohort of the owner's
    await page.run(starter_code("echo"))
    await page.send(type="client.connect", client="c1", path="/ws/echo/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    run = await database_sync_to_async(Run.objects.get)()

    async def watch(user):
        headers = await database_sync_to_async(session_headers)(user)
        communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/watch/", headers=headers)
        return communicator, await communicator.connect()

    _, refused = await watch(stranger)
    assert refused == (False, 4403)
    _, refused = await watch(classmate)
    assert refused == (False, 4403)
    watcher, (connected, _) = await watch(instructor)
    assert connected
    snapshot = await watcher.receive_json_from(timeout=5)
    assert snapshot["type"] == "events" and [e["kind"] for e in snapshot["events"]][:2] == ["connect", "accept"]
    await page.send(type="client.send", client="c1", text="watched")
    seen = []
    while not any(m.get("type") == "consumer.send" for m in seen):
        received = await watcher.receive_json_from(timeout=5)
        seen.extend(unbatch(received))
    assert {"type": "consumer.send", "client": "c1", "text": "watched"} in seen
    await watcher.send_json_to({"type": "client.send", "client": "c1", "text": "injected"})
    await page.send(type="stop")
    await page.expect(lambda m: m["type"] == "status" and m["state"] == "stopped")
    assert not any(m.get("text") == "injected" for m in page.seen)
    assert await database_sync_to_async(Membership.objects.filter(user=page.user).count)() == 1
    while not any(m.get("type") == "status" and m["state"] == "stopped" for m in seen):
        seen.extend(unbatch(await watcher.receive_json_from(timeout=5)))
    await watcher.disconnect()

    late, (connected, _) = await watch(instructor)  # opened the page while it ran, connected after the end
    assert connected
    assert await late.receive_json_from(timeout=5) == {
        "type": "status",
        "state": "stopped",
        "reason": Run.EndReason.STOPPED.label,
    }
    assert (await late.receive_output(timeout=5))["type"] == "websocket.close"


async def test_a_flood_of_trace_events_reaches_the_page_in_a_few_batches(page_factory):
    page = await page_factory()
    await page.run(BURST)
    await page.send(type="client.connect", client="c1", path="/ws/burst/")
    await page.expect(lambda m: m["type"] == "consumer.accept")
    await page.expect(lambda m: m["type"] == "events" and m["events"][-1]["kind"] == "accept")
    page.seen.clear()
    page.batches = 0
    await page.send(type="client.send", client="c1", text="400")
    await page.expect(lambda m: m["type"] == "consumer.send" and m["text"] == "399")
    steps = [event["step"] for m in page.seen if m["type"] == "events" for event in m["events"]]
    assert steps == sorted(steps) and len(steps) == len(set(steps)) == 401
    frames = [m["text"] for m in page.seen if m["type"] == "consumer.send"]
    assert frames == [str(n) for n in range(400)]
    assert page.batches < 800 / 5  # batched, not one WebSocket message per page message


async def test_a_lone_event_in_a_quiet_run_is_sent_without_waiting_for_company(page_factory):
    page = await page_factory()
    await page.run(BURST)
    await page.send(type="client.connect", client="c1", path="/ws/burst/")
    await page.expect(lambda m: m["type"] == "events" and m["events"][-1]["kind"] == "accept")
    page.seen.clear()
    page.batches = 0
    await page.send(type="client.send", client="c1", text="0")
    events = await page.expect(lambda m: m["type"] == "events")
    assert [event["kind"] for event in events["events"]] == ["receive"]
    assert page.batches == 1 and not page.unread  # sent on its own, not held back to wait for company


SMALL_CHANNELS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10}}}


@override_settings(CHANNEL_LAYERS=SMALL_CHANNELS)
async def test_a_live_client_that_stops_reading_loses_frames_not_the_run(page_factory):
    from channels.layers import get_channel_layer

    from playground.live import live_group_name

    page = await page_factory()
    live_url = await page.run(BURST)
    token = live_url.split("/ws/live/", 1)[1].strip("/")
    layer = get_channel_layer()
    stalled = await layer.new_channel()  # a live proxy whose process stopped reading its channel
    await layer.group_send(
        live_group_name(token),
        {"type": "client.connect", "reply_channel": stalled, "path": "/ws/burst/", "query": "", "subprotocols": []},
    )
    accepted = await asyncio.wait_for(layer.receive(stalled), 10)
    assert accepted["type"] == "consumer.accept"
    await layer.send(accepted["owner"], {"type": "client.send", "client": accepted["client"], "text": "40"})
    warning = await page.expect(lambda m: m["type"] == "error" and "not reading" in m["message"])
    assert accepted["client"] in warning["message"]

    await page.send(type="client.connect", client="c1", path="/ws/burst/")  # the run goes on
    await page.expect(lambda m: m["type"] == "consumer.accept" and m["client"] == "c1")
    await page.send(type="client.send", client="c1", text="2")
    await page.expect(lambda m: m["type"] == "consumer.send" and m["text"] == "1")
    assert sum(m["type"] == "error" and "not reading" in m["message"] for m in page.seen) == 1


@override_settings(CHANNEL_LAYERS=SMALL_CHANNELS)
async def test_a_live_client_flooding_an_owner_that_is_not_reading_is_told_to_retry_later():
    from channels.layers import get_channel_layer

    from playground.live import CLOSE_TRY_AGAIN_LATER, live_group_name

    layer = get_channel_layer()
    token = "t" * 32
    owner_inbox = await layer.new_channel()
    await layer.group_add(live_group_name(token), owner_inbox)
    external = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    connecting = asyncio.ensure_future(external.connect())
    request = await asyncio.wait_for(layer.receive(owner_inbox), 5)
    stalled_owner = await layer.new_channel()  # an owner whose process stopped reading
    await layer.send(request["reply_channel"], {"type": "consumer.accept", "owner": stalled_owner, "client": "live1"})
    assert (await connecting)[0]
    for n in range(11):
        await external.send_to(text_data=str(n))
    closed = await external.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER}


async def test_a_close_code_daphne_cannot_send_reaches_a_live_client_as_1000(page_factory):
    """A learner may close with 1011; Daphne sends only 1000 and 3000-4999, so the proxy must not pass it on."""
    page = await page_factory()
    code = starter_code("echo").replace(
        "await self.send(text_data=text_data)", "await self.close(code=1011 if text_data == 'bye' else 4321)"
    )
    token = (await page.run(code)).rstrip("/").rsplit("/", 1)[1]
    for said, expected in (("bye", 1000), ("other", 4321)):
        external = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
        assert (await external.connect(timeout=5))[0]
        await external.send_to(text_data=said)
        assert await external.receive_output(timeout=5) == {"type": "websocket.close", "code": expected}
    await page.send(type="stop")


async def test_a_live_client_closing_without_a_status_code_reaches_the_owner_as_1005():
    """Daphne reports a close frame without a code as None; the run protocol carries 1005 instead of ending the run."""
    from channels.layers import get_channel_layer

    from playground.live import CLOSE_NO_STATUS, live_group_name

    layer = get_channel_layer()
    token = "n" * 32
    owner_inbox = await layer.new_channel()
    await layer.group_add(live_group_name(token), owner_inbox)
    external = WebsocketCommunicator(application, f"/ws/live/{token}/ws/echo/")
    connecting = asyncio.ensure_future(external.connect())
    request = await asyncio.wait_for(layer.receive(owner_inbox), 5)
    await layer.send(request["reply_channel"], {"type": "consumer.accept", "owner": owner_inbox, "client": "live1"})
    assert (await connecting)[0]
    await external.disconnect(code=None)
    goodbye = await asyncio.wait_for(layer.receive(owner_inbox), 5)
    assert goodbye == {"type": "client.close", "client": "live1", "code": CLOSE_NO_STATUS}
