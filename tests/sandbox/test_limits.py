"""Each owner-enforced limit at its edge: the last allowed value passes, one more is refused or ends the run."""

from __future__ import annotations

import pytest

from playground.sandbox import run_script

from .support import ECHO, FAST, close, connect, final, of, text

pytestmark = pytest.mark.asyncio(loop_scope="session")

SMALL_MESSAGES = FAST.replace(max_message_bytes=1024)


async def test_message_of_exactly_max_bytes_is_accepted():
    events = await run_script(ECHO, [connect(), text("c1", "x" * 1024), text("c1", "é" * 512)], SMALL_MESSAGES)
    assert [len(e["text"]) for e in of(events, "consumer.send")] == [1024, 512]
    assert not of(events, "error")


async def test_message_one_byte_over_max_is_refused_and_the_run_continues():
    events = await run_script(ECHO, [connect(), text("c1", "x" * 1025), text("c1", "after")], SMALL_MESSAGES)
    error = of(events, "error", client="c1")[0]
    assert error["source"] == "host" and error["limit"] == "message_size" and "1025 bytes" in error["message"]
    assert [e["text"] for e in of(events, "consumer.send")] == ["after"]
    assert final(events)["reason"] == "stopped"


async def test_consumer_message_over_max_is_dropped_with_an_error():
    code = ECHO.replace("await self.send(text_data=text_data)", "await self.send(text_data=text_data * 2)")
    events = await run_script(code, [connect(), text("c1", "y" * 512), text("c1", "y" * 513)], SMALL_MESSAGES)
    assert [len(e["text"]) for e in of(events, "consumer.send")] == [1024]
    assert "the playground limit is 1024 bytes" in of(events, "error", client="c1")[0]["message"]


async def test_max_clients_allows_exactly_the_limit():
    limits = FAST.replace(max_clients=3)
    ops = [connect("c1"), connect("c2"), connect("c3"), connect("c4"), close("c1"), connect("c5")]
    events = await run_script(ECHO, ops, limits)
    assert [e["client"] for e in of(events, "consumer.accept")] == ["c1", "c2", "c3", "c5"]
    refused = of(events, "error", client="c4")[0]
    assert refused["limit"] == "clients" and "at most 3 clients" in refused["message"]


async def test_max_events_ends_the_run_after_exactly_that_many():
    limits = FAST.replace(max_events=30)
    code = ECHO.replace(
        "await self.send(text_data=text_data)",
        "for i in range(100):\n                await self.send(text_data=str(i))",
    )
    events = await run_script(code, [connect(), text("c1", "go")], limits)
    assert len(events) == 30 + 2
    assert events[-2] == {"type": "limit", "what": "events", "detail": "the run produced more than 30 events"}
    assert final(events)["reason"] == "limit" and final(events)["what"] == "events"


# The scripts below wait in the owner; each wait and limit leaves seconds of slack for a loaded machine, where one
# op's round trip to the sandbox can take a second. A run that ends by its limit ends the script's wait early.


async def test_idle_limit_ends_a_run_without_client_activity():
    limits = FAST.replace(idle_seconds=1, lifetime_seconds=120)
    events = await run_script(ECHO, [connect(), {"type": "wait", "seconds": 60}], limits, timeout=90)
    # Ended by the idle limit, long before the script's wait (or the lifetime) would have ended it.
    assert final(events)["what"] == "idle" and of(events, "limit", what="idle")


async def test_client_activity_keeps_an_idle_run_alive():
    limits = FAST.replace(idle_seconds=3, lifetime_seconds=60)
    # 5 x 0.8 s of waiting outlasts the 3 s idle limit; each gap leaves 2 s for the message's round trip.
    ops = [connect()] + [op for i in range(5) for op in ({"type": "wait", "seconds": 0.8}, text("c1", str(i)))]
    events = await run_script(ECHO, ops, limits, timeout=60)
    assert len(of(events, "consumer.send")) == 5 and final(events)["reason"] == "stopped"


async def test_lifetime_limit_ends_even_an_active_run():
    limits = FAST.replace(lifetime_seconds=3, idle_seconds=60)
    ops = [connect()] + [op for i in range(20) for op in ({"type": "wait", "seconds": 0.3}, text("c1", str(i)))]
    events = await run_script(ECHO, ops, limits, timeout=60)
    assert final(events)["reason"] == "limit" and final(events)["what"] == "time"
    assert 2 <= len(of(events, "consumer.send")) < 20


async def test_output_rate_allows_exactly_the_limit():
    limits = FAST.replace(output_bytes_per_minute=10_000)
    code = "import sys\nsys.stdout.write('a' * 9_999 + '\\n')\n" + ECHO
    events = await run_script(code, [connect()], limits)
    assert final(events)["reason"] == "stopped"
    assert sum(len(e["text"]) for e in of(events, "output")) == 10_000


async def test_output_rate_one_byte_over_ends_the_run():
    limits = FAST.replace(output_bytes_per_minute=10_000)
    code = "import sys\nsys.stdout.write('a' * 10_000 + '\\n')\n" + ECHO
    events = await run_script(code, [connect()], limits)
    assert final(events)["reason"] == "limit" and final(events)["what"] == "output"


async def test_code_size_limit_at_its_edge():
    limits = FAST.replace(max_code_bytes=len(ECHO.encode()) + 10)
    fits = ECHO + "#" * 9 + "\n"
    assert len(fits.encode()) == limits.max_code_bytes
    assert final(await run_script(fits, [], limits))["reason"] == "stopped"
    too_big = await run_script(fits + "#", [], limits)
    assert final(too_big)["reason"] == "limit" and final(too_big)["what"] == "code_size"
    assert of(too_big, "error", limit="code_size")


async def test_run_cpu_budget_counts_every_process_of_the_run():
    # CPU time, not wall time: neither the lifetime nor the idle limit may end the run first on a loaded machine.
    limits = FAST.replace(cpu_seconds=2, run_cpu_seconds=1.5, lifetime_seconds=120, idle_seconds=120)
    code = (
        """
import os, time
for _ in range(3):
    if os.fork() == 0:
        end = time.process_time() + 0.8
        while time.process_time() < end:
            pass
        os._exit(0)
"""
        + ECHO
    )
    events = await run_script(code, [connect(), {"type": "wait", "seconds": 90}], limits, timeout=120)
    assert final(events)["reason"] == "limit" and final(events)["what"] == "cpu"


async def test_receive_before_accept_is_refused_by_the_owner():
    code = ECHO.replace(
        "class EchoConsumer",
        "class Silent(AsyncWebsocketConsumer):\n    async def connect(self):\n        pass\n\nclass _Unused",
    )
    code = code.replace("class _Unused(AsyncWebsocketConsumer)", "class _Unused(Silent)")
    events = await run_script(code, [connect(), text("c1", "early")], FAST)
    assert "c1 is not connected" in of(events, "error", source="host")[0]["message"]
