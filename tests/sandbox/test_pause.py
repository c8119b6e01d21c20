"""Pause on each event: every Channels call waits for a step, one step releases one call, oldest first."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from playground.sandbox import Sandbox, run_script

from . import consumers
from .support import FAST, assert_run_left_nothing, connect, final, of, text

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAUSE = {"type": "pause", "on": True}
RESUME = {"type": "pause", "on": False}
STEP = {"type": "step"}


class Run:
    """A sandbox driven op by op, collecting its events, so a test can look between steps."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.events: list[dict[str, Any]] = []
        self.collector = asyncio.get_running_loop().create_task(self._collect())

    @classmethod
    async def start(cls, code: str, limits: Any = FAST) -> Run:
        run = cls(await Sandbox.start(limits))
        await run.sandbox.load(code)
        return run

    async def _collect(self) -> None:
        async for event in self.sandbox.events():
            self.events.append(event)

    async def do(self, *ops: dict[str, Any]) -> None:
        """Send ops, then wait until nothing more can happen without a step."""
        for op in ops:
            assert await self.sandbox.send(op), (op, self.events[-3:])
        assert await self.sandbox.settle(30)  # returns once idle; generous for a loaded machine
        await asyncio.sleep(0.05)  # let the event reader hand over what the settle round trip overtook

    async def steps(self, count: int) -> list[str]:
        """Step `count` times, one at a time; the kinds of the calls released, in order."""
        released = []
        for _ in range(count):
            released.append(of(self.events, "paused")[-1]["kind"])
            before = len(of(self.events, "resumed"))
            await self.do(STEP)
            assert len(of(self.events, "resumed")) == before + 1
        return released

    def sent(self) -> list[tuple[str, str]]:
        return [(e["client"], e["text"]) for e in of(self.events, "consumer.send")]

    async def stop(self) -> None:
        pid, uid = self.sandbox.pid, self.sandbox.uid
        await self.sandbox.stop("test finished")
        await self.collector
        assert final(self.events)["reason"] == "stopped"
        assert_run_left_nothing(pid, uid)


async def test_two_clients_each_step_releases_one_call_in_order():
    run = await Run.start(consumers.ASYNC_COUNTER)
    await run.do(connect("c1"), connect("c2"))
    await run.do(PAUSE, text("c1", "a"), text("c2", "b"))
    held = of(run.events, "paused")
    assert [(e["id"], e["client"], e["kind"], e["method"]) for e in held] == [
        (1, "c1", "receive", "receive"),
        (2, "c2", "receive", "receive"),
    ]
    assert held[0]["action"] == "c1 sends 'a'" and held[0]["line"] == 10 and held[1]["waiting"] == 2
    assert run.sent() == []

    await run.do(STEP)  # c1's receive() runs up to its send(), which waits in turn
    assert [(e["id"], e["by"]) for e in of(run.events, "resumed")] == [(1, "step")]
    assert of(run.events, "paused")[-1] | {"step": 0} == {
        "type": "paused", "id": 3, "client": "c1", "kind": "send", "method": "receive", "line": 12,
        "action": "send(text_data='1:a')", "step": 0, "waiting": 2,
    }  # fmt: skip
    assert run.sent() == []

    await run.do(STEP)  # c2's receive() runs up to its send()
    assert of(run.events, "paused")[-1]["id"] == 4 and of(run.events, "paused")[-1]["client"] == "c2"
    assert run.sent() == []

    await run.do(STEP)  # c1's send() completes: exactly one frame
    assert run.sent() == [("c1", "1:a")]
    assert [e["id"] for e in of(run.events, "resumed")] == [1, 2, 3]

    await run.do(RESUME)  # pause off releases the rest
    assert run.sent() == [("c1", "1:a"), ("c2", "1:b")]
    assert [(e["id"], e["by"]) for e in of(run.events, "resumed")][-1] == (4, "unpause")
    await run.do(text("c1", "c"))  # and nothing waits any more
    assert run.sent()[-1] == ("c1", "2:c") and len(of(run.events, "paused")) == 4
    await run.stop()


async def test_paused_event_names_the_trace_step_it_follows():
    run = await Run.start(consumers.ASYNC_COUNTER)
    await run.do(connect("c1"))
    await run.do(PAUSE, text("c1", "a"))
    last_step = [e for e in run.events if e["type"] == "trace"][-1]["step"]
    assert of(run.events, "paused")[0]["step"] == last_step
    await run.do(STEP)
    receive = [e for e in run.events if e["type"] == "trace"][-1]
    assert receive["kind"] == "receive" and receive["step"] == last_step + 1
    await run.stop()


async def test_pause_holds_accept_group_and_handler_calls():
    run = await Run.start(consumers.CHAT)
    await run.do(PAUSE, connect("a", "/ws/chat/lobby/"))
    assert await run.steps(3) == ["connect", "group_add", "accept"]
    assert of(run.events, "consumer.accept", client="a")
    await run.do(text("a", '{"message": "hi"}'))
    assert await run.steps(3) == ["receive", "group_send", "handler"]
    assert run.sent() == [] and of(run.events, "paused")[-1]["method"] == "chat_message"
    assert await run.steps(1) == ["send"]
    assert run.sent() == [("a", '{"message": "hi"}')]
    await run.do({"type": "client.close", "client": "a", "code": 1000})
    assert await run.steps(2) == ["disconnect", "group_discard"]
    await run.stop()


async def test_pause_holds_close_and_the_disconnect_it_causes():
    run = await Run.start(consumers.CLOSE_CODE)
    await run.do(connect("c1"))
    await run.do(PAUSE, text("c1", "bye"))
    assert await run.steps(2) == ["receive", "close"]
    assert of(run.events, "consumer.close", client="c1")[0]["code"] == 4001
    assert of(run.events, "paused")[-1]["kind"] == "disconnect"
    await run.stop()


async def test_pause_in_a_sync_consumer_holds_calls_from_the_worker_thread():
    run = await Run.start(consumers.SYNC_GROUPS)
    await run.do(connect("a"))
    await run.do(PAUSE, text("a", "x"))
    assert await run.steps(3) == ["receive", "group_send", "handler"]
    held = of(run.events, "paused")[-1]
    assert (held["kind"], held["method"], held["line"]) == ("send", "broadcast", 14) and run.sent() == []
    assert of(run.events, "paused")[-3]["line"] == 11  # group_send, found in the worker thread
    await run.steps(1)
    assert run.sent() == [("a", "all:x")]
    await run.stop()


async def test_stop_while_paused_ends_cleanly():
    run = await Run.start(consumers.ASYNC_COUNTER)
    await run.do(connect("c1"), connect("c2"))
    await run.do(PAUSE, text("c1", "a"), text("c2", "b"))
    assert len(of(run.events, "paused")) == 2
    await run.stop()


async def test_step_needs_pause_and_pause_needs_a_boolean():
    events = await run_script(
        consumers.ASYNC_COUNTER, [STEP, {"type": "pause", "on": "yes"}, connect(), PAUSE, STEP, RESUME], FAST
    )
    messages = [e["message"] for e in of(events, "error", source="host")]
    assert messages == ["step only works while pause is on", "pause needs on: true or false"]
    assert of(events, "consumer.accept", client="c1") and not of(
        events, "paused"
    )  # a step with nothing held is harmless


async def test_paused_run_is_not_idle_but_lifetime_still_applies():
    # The lifetime leaves 6 s beyond the 2 s of reading for start-up and round trips on a loaded machine.
    limits = FAST.replace(idle_seconds=1, lifetime_seconds=8)
    run = await Run.start(consumers.ASYNC_COUNTER, limits)
    await run.do(connect("c1"))
    await run.do(PAUSE, text("c1", "a"))
    assert not await run.sandbox.wait_done(2.0)  # twice the idle limit, reading a paused step
    assert run.sandbox.paused
    assert await run.sandbox.wait_done(30.0)
    await run.collector
    assert final(run.events)["what"] == "time"


async def test_pause_off_restarts_the_idle_clock():
    limits = FAST.replace(idle_seconds=1, lifetime_seconds=60)
    run = await Run.start(consumers.ASYNC_COUNTER, limits)
    await run.do(connect("c1"), PAUSE)
    assert not await run.sandbox.wait_done(1.5)
    await run.do(RESUME)
    assert await run.sandbox.wait_done(30.0)
    await run.collector
    assert final(run.events)["what"] == "idle"
