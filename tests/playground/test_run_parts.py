"""The parts of a run (playground.run), each alone: outbox pacing, trace recorder, end reason, page messages,
live clients and heartbeat."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.utils import timezone

from playground.models import Run
from playground.run.end_reason import EndReason
from playground.run.heartbeat import LIVE_BEATS_PER_HEARTBEAT, Heartbeat, live_silence_limit
from playground.run.live_clients import LiveClients
from playground.run.outbox import EVENT_BATCH_SECONDS, EVENT_BURST, PageOutbox
from playground.run.page_messages import page_message
from playground.run.recorder import TraceRecorder
from tests.factories import make_user
from tests.support.page_protocol import unbatch


class Page:
    """Stands in for the page: keeps what the outbox sends and lets a test wait until enough arrived."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.arrived = asyncio.Event()

    async def __call__(self, message: dict) -> None:
        self.sent.append(message)
        self.arrived.set()

    async def until(self, count: int, timeout: float = 5.0) -> None:
        async def wait() -> None:
            while len(self.sent) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), timeout)

    def messages(self) -> list[dict]:
        return [message for sent in self.sent for message in unbatch(sent)]


class FrozenClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def output(n: int) -> dict:
    return {"type": "output", "text": str(n)}


async def send_quietly(outbox: PageOutbox, page: Page, messages: list[dict]) -> None:
    """A quiet run: each message is posted once the one before it reached the page."""
    for message in messages:
        outbox.post(message)
        await page.until(len(page.sent) + 1)


async def test_a_quiet_run_sends_each_message_on_its_own_without_waiting():
    page, clock = Page(), FrozenClock()
    outbox = PageOutbox(page, clock=clock)
    assert outbox.delay() == 0.0
    await send_quietly(outbox, page, [output(n) for n in range(EVENT_BURST)])
    assert page.sent == [output(n) for n in range(EVENT_BURST)]  # no `batch` envelopes


async def test_a_flood_goes_out_in_a_few_batches_in_the_order_it_was_posted():
    page, clock = Page(), FrozenClock()  # the clock stands still: every flush so far is recent
    outbox = PageOutbox(page, clock=clock)
    await send_quietly(outbox, page, [output(n) for n in range(EVENT_BURST)])
    assert outbox.delay() == EVENT_BATCH_SECONDS
    flood = [output(n) for n in range(EVENT_BURST, EVENT_BURST + 200)]
    for message in flood:
        outbox.post(message)
        await asyncio.sleep(0)  # the sandbox's events arrive one by one, the loop turning in between
    await page.until(EVENT_BURST + 1)
    while sum(len(unbatch(sent)) for sent in page.sent) < EVENT_BURST + len(flood):
        await page.until(len(page.sent) + 1)
    flood_sends = page.sent[EVENT_BURST:]
    assert len(flood_sends) < len(flood) / 10
    assert flood_sends[0]["type"] == "batch" and len(flood_sends[0]["messages"]) > 1
    assert page.messages() == [output(n) for n in range(EVENT_BURST + len(flood))]


async def test_a_run_that_quietens_after_a_flood_sends_at_once_again():
    page, clock = Page(), FrozenClock()
    outbox = PageOutbox(page, clock=clock)
    await send_quietly(outbox, page, [output(n) for n in range(EVENT_BURST)])
    assert outbox.delay() == EVENT_BATCH_SECONDS
    clock.now += EVENT_BATCH_SECONDS / 2
    assert outbox.delay() == EVENT_BATCH_SECONDS  # the burst is still recent
    clock.now += EVENT_BATCH_SECONDS / 2
    assert outbox.delay() == 0.0


async def test_trace_events_in_a_row_travel_as_one_events_message():
    page = Page()
    outbox = PageOutbox(page)
    outbox.post({"type": "events", "events": [{"n": 1}]})
    outbox.post({"type": "events", "events": [{"n": 2}]})
    outbox.post(output(3))
    outbox.post({"type": "events", "events": [{"n": 4}]})
    await outbox.flush_now()
    assert page.sent == [
        {
            "type": "batch",
            "messages": [
                {"type": "events", "events": [{"n": 1}, {"n": 2}]},
                output(3),
                {"type": "events", "events": [{"n": 4}]},
            ],
        }
    ]


async def test_flush_now_sends_what_a_flood_held_back_once_and_cancels_the_wait():
    page, clock = Page(), FrozenClock()
    outbox = PageOutbox(page, clock=clock)
    await send_quietly(outbox, page, [output(n) for n in range(EVENT_BURST)])
    outbox.post(output(99))
    waiting = outbox.flush_task
    assert waiting is not None and page.sent[-1] != output(99)
    await outbox.flush_now()
    assert page.sent[-1] == output(99) and outbox.flush_task is None
    await asyncio.wait([waiting])
    assert waiting.cancelled() and len(page.sent) == EVENT_BURST + 1
    await outbox.flush_now()
    assert len(page.sent) == EVENT_BURST + 1  # nothing queued, nothing sent


def test_the_recorder_keeps_events_up_to_its_cap_and_counts_them_all():
    recorder = TraceRecorder(max_events=2)
    assert recorder.record({"type": "trace", "kind": "connect", "step": 1}) == {"kind": "connect", "step": 1}
    assert not recorder.truncated
    recorder.record({"type": "trace", "step": 2})
    assert not recorder.truncated
    recorder.record({"type": "trace", "step": 3})
    assert recorder.events == [{"kind": "connect", "step": 1}, {"step": 2}]
    assert recorder.count == 3 and recorder.truncated


def test_a_sandbox_exit_alone_says_why_the_run_ended():
    end = EndReason()
    assert (end.reason, end.detail) == (Run.EndReason.STOPPED, "")
    end.sandbox_exited("error", "ValueError in receive")
    assert (end.reason, end.detail) == (Run.EndReason.ERROR, "ValueError in receive")
    crashed = EndReason()
    crashed.sandbox_exited("protocol", "garbled event")
    assert crashed.reason == Run.EndReason.CRASHED


def test_the_owners_first_stop_beats_a_later_stop_and_the_sandbox_exit():
    end = EndReason()
    end.owner_stop(Run.EndReason.PAGE_CLOSED)
    end.owner_stop(Run.EndReason.STOPPED, "a new run replaced it")
    end.sandbox_exited("stopped", "")
    assert (end.reason, end.detail) == (Run.EndReason.PAGE_CLOSED, "")


def test_a_limit_beats_the_sandbox_exit_that_follows_it():
    end = EndReason()
    end.limit_reached("cpu", "a process used its 5 s of CPU")
    end.sandbox_exited("limit", "reported by the sandbox")
    assert (end.reason, end.detail) == (Run.EndReason.LIMIT, "cpu limit reached: a process used its 5 s of CPU")
    bare = EndReason()
    bare.limit_reached("idle")
    assert bare.detail == "idle limit reached"


def test_a_limit_reported_while_the_owner_stops_the_run_is_still_the_reason():
    end = EndReason()
    end.owner_stop(Run.EndReason.STOPPED)
    end.limit_reached("time", "the run reached its 900 s lifetime")
    assert (end.reason, end.detail) == (Run.EndReason.LIMIT, "time limit reached: the run reached its 900 s lifetime")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"type": "consumer.accept", "client": "c1", "subprotocol": "chat"},
            {"type": "consumer.accept", "client": "c1", "subprotocol": "chat"},
        ),
        (
            {"type": "consumer.send", "client": "c1", "text": "hi"},
            {"type": "consumer.send", "client": "c1", "text": "hi"},
        ),
        (
            {"type": "consumer.send", "client": "c1", "bytes": "AAE="},
            {"type": "consumer.send", "client": "c1", "bytes": "AAE="},
        ),
        (
            {"type": "consumer.reject", "client": "c1", "status": 403},
            {
                "type": "consumer.reject",
                "client": "c1",
                "status": 403,
                "explanation": "handshake refused (HTTP 403): close() or DenyConnection before accept(); "
                "a browser reports 1006",
            },
        ),
        (
            {"type": "consumer.close", "client": "c1", "code": 4321, "by": "server"},
            {
                "type": "consumer.close",
                "client": "c1",
                "code": 4321,
                "by": "server",
                "explanation": "application-defined (4000-4999): your consumer chose it, so its meaning is yours "
                "to document",
            },
        ),
        (
            {"type": "consumer.close", "client": "c2", "code": 4321, "by": "client"},
            {
                "type": "consumer.close",
                "client": "c2",
                "code": 4321,
                "by": "client",
                "explanation": "you closed with code 4321: application-defined (4000-4999): the client chose it, so "
                "its meaning is yours to document. Daphne answers with close code 1000 (it does not echo the "
                "client's code); the consumer's disconnect() receives 4321",
            },
        ),
        (
            {"type": "consumer.reject", "client": "c1", "status": 500, "reason": "no route matches /ws/wrong/"},
            {
                "type": "consumer.reject",
                "client": "c1",
                "status": 500,
                "explanation": "no route matches /ws/wrong/. Channels' URLRouter raises ValueError, so Daphne "
                "answers HTTP 500 and logs the exception; a browser reports only close code 1006",
            },
        ),
        (
            {"type": "consumer.drop", "client": "c1", "reason": "no accept() or close() within 5 s"},
            {
                "type": "consumer.drop",
                "client": "c1",
                "explanation": "no accept() or close() within 5 s; no HTTP answer, and a browser reports close "
                "code 1006. The consumer's disconnect() receives 1006",
            },
        ),
        ({"type": "output", "text": "hello\n"}, {"type": "output", "text": "hello\n"}),
        (
            {"type": "error", "message": "boom", "traceback": "Traceback ...", "line": 7},
            {"type": "error", "message": "Traceback ...", "line": 7},
        ),
        ({"type": "paused", "before": "send"}, {"type": "paused", "before": "send"}),
        ({"type": "loaded"}, {"type": "status", "state": "running", "reason": None}),
        ({"type": "ready"}, None),
    ],
)
def test_each_sandbox_event_becomes_its_page_message(event, message):
    assert page_message(event) == message


class Layer:
    """A channel layer whose sends are kept; channels named in `full` refuse them, those in `broken` fail."""

    def __init__(self, full=(), broken=()) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.full, self.broken = set(full), set(broken)

    async def send(self, channel: str, message: dict) -> None:
        if channel in self.full:
            raise ChannelFull
        if channel in self.broken:
            raise OSError("connection reset")
        self.sent.append((channel, message))


async def test_live_clients_get_their_frames_and_are_forgotten_once_closed():
    layer, told = Layer(), []
    live = LiveClients(layer, "owner-channel", run_id=1, tell_page=told.append)
    first, second = live.add("proxy-1"), live.add("proxy-2")
    assert (first, second) == ("live1", "live2")
    await live.route("consumer.accept", first, {"type": "consumer.accept", "client": first, "subprotocol": None})
    await live.route("consumer.send", first, {"type": "consumer.send", "client": first, "text": "hi"})
    await live.route("consumer.close", first, {"type": "consumer.close", "client": first, "code": 1000})
    await live.route("consumer.reject", second, {"type": "consumer.reject", "client": second})
    assert layer.sent == [
        ("proxy-1", {"type": "consumer.accept", "owner": "owner-channel", "client": "live1", "subprotocol": None}),
        ("proxy-1", {"type": "consumer.send", "text": "hi"}),
        ("proxy-1", {"type": "consumer.close", "code": 1000}),
        ("proxy-2", {"type": "consumer.reject", "code": 403}),
    ]
    assert first not in live and second not in live and not told
    assert not live.forget(first)


async def test_a_live_client_that_stops_reading_loses_frames_and_the_page_is_told_once():
    layer, told = Layer(full={"proxy-1"}), []
    live = LiveClients(layer, "owner-channel", run_id=1, tell_page=told.append)
    client = live.add("proxy-1")
    for n in range(3):
        await live.route("consumer.send", client, {"type": "consumer.send", "client": client, "text": str(n)})
    assert live.clients[client].dropped == 3 and client in live
    assert len(told) == 1 and told[0]["type"] == "error" and "live1 is not reading" in told[0]["message"]


async def test_at_the_end_every_live_client_is_closed_even_when_one_close_fails():
    layer = Layer(broken={"proxy-2"})
    live = LiveClients(layer, "owner-channel", run_id=1, tell_page=lambda message: None)
    accepted, broken, waiting = live.add("proxy-1"), live.add("proxy-2"), live.add("proxy-3")
    await live.route("consumer.accept", accepted, {"type": "consumer.accept", "client": accepted})
    layer.sent.clear()
    await live.close_all()
    assert layer.sent == [
        ("proxy-1", {"type": "consumer.close", "code": 1001}),
        ("proxy-3", {"type": "consumer.reject", "code": 1001}),
    ]
    assert not live.clients and broken not in live and waiting not in live
    await live.refuse("proxy-4")
    assert layer.sent[-1] == ("proxy-4", {"type": "consumer.reject", "code": 4404})


@database_sync_to_async
def runs_beating_since(seconds_ago: float) -> tuple[Run, Run]:
    """A run of ours and one whose owner went silent an hour ago."""
    now = timezone.now()
    user = make_user()
    ours = Run.objects.create(learner=user, code="", started_at=now, heartbeat_at=now - timedelta(seconds=seconds_ago))
    silent = Run.objects.create(learner=user, code="", started_at=now, heartbeat_at=now - timedelta(hours=1))
    return ours, silent


async def test_the_heartbeat_stamps_its_run_and_ends_the_silent_ones(transactional_db, settings):
    settings.PLAYGROUND_HEARTBEAT_SECONDS = 0.05
    ours, silent = await runs_beating_since(0.1)
    stamped_before = ours.heartbeat_at
    told = []

    async def tell_live_clients() -> None:
        told.append(1)

    heartbeat = Heartbeat(ours.pk, tell_live_clients)
    heartbeat.start()
    try:
        for _ in range(200):
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
            await database_sync_to_async(silent.refresh_from_db)()
            if silent.ended_at is not None:
                break
        await database_sync_to_async(ours.refresh_from_db)()
    finally:
        heartbeat.stop()
    assert silent.end_reason == Run.EndReason.INTERRUPTED
    assert ours.ended_at is None and ours.heartbeat_at > stamped_before
    assert len(told) >= 3  # the live clients hear it more often than the row is stamped
    await asyncio.wait([heartbeat.task])
    assert heartbeat.task.cancelled()


def test_a_live_proxy_forgives_two_late_beats_and_still_closes_within_one_heartbeat_of_the_owners_death(settings):
    settings.PLAYGROUND_HEARTBEAT_SECONDS = 10
    beat = settings.PLAYGROUND_HEARTBEAT_SECONDS / LIVE_BEATS_PER_HEARTBEAT
    # An owner that dies just after a beat is the worst case: the proxy's silence began at that beat. A whole beat
    # is left for the close to travel and for a busy event loop's timer.
    assert live_silence_limit() <= settings.PLAYGROUND_HEARTBEAT_SECONDS - beat
    # A living owner whose next two beats both come late is still heard before the proxy gives up.
    assert live_silence_limit() >= 3 * beat
