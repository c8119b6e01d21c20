"""Diagnostics: mistakes Channels does not explain become `note` rows naming the method and the learner line."""

from __future__ import annotations

import json

import pytest

from playground.sandbox import run_script
from playground.sandbox.shared import protocol
from tests.conftest import COMMAND_SECONDS, ROOT

from . import consumers
from .support import FAST, close, connect, final, of, output, text, traces

pytestmark = pytest.mark.asyncio(loop_scope="session")

HEAD = "import asyncio, time\nfrom channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer\n"


def notes(events: list[dict], topic: str | None = None) -> list[dict]:
    """Note rows, optionally of one topic (every note names a known topic)."""
    rows = traces(events, "note")
    assert all(row["topic"] in protocol.NOTE_TOPICS for row in rows)
    return [row for row in rows if topic is None or row["topic"] == topic]


async def test_connect_without_accept_leaves_the_handshake_pending():
    code = (
        HEAD
        + """
class Waiter(AsyncWebsocketConsumer):
    async def connect(self):
        self.ready = False
"""
    )
    events = await run_script(code, [connect(), text("c1", "hello?")], FAST)
    note = notes(events, "pending_handshake")[0]
    assert (note["client"], note["method"], note["line"], note["state"]) == ("c1", "connect", 5, "connecting")
    assert "accept() or close()" in note["action"] and "pending" in note["evaluation"]
    assert "Daphne drops the connection" in note["result"] and "1006" in note["result"]
    assert of(events, "error", source="host")[0]["message"] == "c1 is not connected"


async def test_accept_without_await_is_named_with_its_line():
    code = (
        HEAD
        + """
class Forgetful(AsyncWebsocketConsumer):
    async def connect(self):
        self.accept()
"""
    )
    events = await run_script(code, [connect()], FAST)
    note = notes(events, "unawaited")[0]
    assert (note["method"], note["line"]) == ("connect", 6)
    assert note["action"] == "self.accept() without await in connect()"
    assert "never completed" in note["result"] and "Write await self.accept()" in note["result"]
    assert notes(events, "pending_handshake")  # and so the handshake stays pending
    assert "coroutine 'AsyncWebsocketConsumer.accept' was never awaited" in "".join(
        e["text"] for e in of(events, "output")
    )


async def test_send_without_await_in_receive():
    code = (
        HEAD
        + """
class Quiet(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        reply = text_data.upper()
        self.send(text_data=reply)
"""
    )
    events = await run_script(code, [connect(), text("c1", "hi")], FAST)
    note = notes(events, "unawaited")[0]
    assert (note["client"], note["method"], note["line"]) == ("c1", "receive", 7)
    assert note["action"] == "self.send(text_data=reply) without await in receive()"
    assert note["result"].startswith("the frame is never sent. Write await self.send(text_data=reply). ")
    assert "Daphne at its default verbosity nothing is logged" in note["result"]
    assert not of(events, "consumer.send")
    # Python's warning still reaches the Output panel, but it is no "print() writes to stderr" row: the note says it.
    assert "RuntimeWarning: coroutine 'AsyncWebsocketConsumer.send' was never awaited" in output(events, "stderr")
    assert not traces(events, "output")


async def test_await_without_parentheses_explains_the_type_error():
    code = (
        HEAD
        + """
class NoParens(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept
"""
    )
    events = await run_script(code, [connect()], FAST)
    note = notes(events, "await_without_call")[0]
    assert (note["method"], note["line"]) == ("connect", 6)
    assert note["action"] == "await self.accept without parentheses"
    assert "Write await self.accept()" in note["result"]
    assert traces(events, "exception")[0]["line"] == 6


async def test_awaiting_a_sync_result_is_explained():
    code = (
        HEAD
        + """
class Confused(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await print(text_data)
"""
    )
    events = await run_script(code, [connect(), text("c1", "x")], FAST)
    note = notes(events, "await_sync_result")[0]
    assert (note["client"], note["method"], note["line"]) == ("c1", "receive", 6)
    assert "await print(text_data)" in note["action"] and "without await" in note["result"]


async def test_method_named_without_calling_it_is_noted_at_load():
    code = (
        HEAD
        + """
class Named(AsyncWebsocketConsumer):
    async def connect(self):
        self.accept
        await self.accept()
"""
    )
    events = await run_script(code, [connect()], FAST)
    note = notes(events, "not_called")[0]
    assert (note["client"], note["method"], note["line"]) == (None, "connect", 6)
    assert note["result"] == "write await self.accept()"
    assert of(events, "consumer.accept")


async def test_blocking_sleep_in_an_async_consumer_is_measured():
    code = (
        HEAD
        + """
class Sleepy(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        time.sleep(0.3)
        await self.send(text_data="awake")
"""
    )
    events = await run_script(code, [connect(), text("c1", "nap")], FAST)
    note = notes(events, "blocking")[0]
    assert (note["client"], note["method"], note["line"]) == ("c1", "receive", 6)
    assert "time.sleep(0.3)" in note["action"] and "asyncio.sleep" in note["result"]
    held_ms = int(note["action"].split("about ")[1].split(" ms")[0])
    assert 250 <= held_ms <= 2000
    rows = traces(events)
    assert rows.index(note) < rows.index(traces(events, "send")[0])  # the note precedes the send it delayed


async def test_awaited_sleep_and_sync_consumers_do_not_block_the_loop():
    code = (
        HEAD
        + """
class Patient(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await asyncio.sleep(0.3)
        await self.send(text_data="awake")

class Threaded(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        time.sleep(0.3)
        self.send(text_data="awake")

from django.urls import path
websocket_urlpatterns = [path("a/", Patient.as_asgi()), path("s/", Threaded.as_asgi())]
"""
    )
    events = await run_script(code, [connect("a", "/a/"), connect("s", "/s/"), text("a", "x"), text("s", "y")], FAST)
    assert len(of(events, "consumer.send")) == 2
    assert not notes(events)


async def test_group_send_without_type():
    code = consumers.CHAT.replace('{"type": "chat.message", "message": message}', '{"message": message}')
    events = await run_script(code, [connect("a", "/ws/chat/lobby/"), text("a", json.dumps({"message": "m"}))], FAST)
    note = notes(events, "group_send_type")[0]
    assert (note["client"], note["method"], note["line"]) == ("a", "receive", 18)
    assert "has no 'type'" in note["evaluation"] and "chat_message" in note["evaluation"]
    assert "ValueError" in note["result"]
    assert traces(events).index(note) == traces(events).index(traces(events, "group_send")[0]) + 1


async def test_group_send_type_without_handler_names_the_method_it_looked_for():
    code = consumers.CHAT.replace('"type": "chat.message"', '"type": "chat.msg"')
    ops = [connect("a", "/ws/chat/lobby/"), connect("b", "/ws/chat/lobby/"), text("a", json.dumps({"message": "m"}))]
    events = await run_script(code, ops, FAST)
    note = notes(events, "group_send_handler")[0]
    assert (note["method"], note["line"]) == ("receive", 18)
    assert "type 'chat.msg' names the handler method chat_msg()" in note["evaluation"]
    assert "ChatConsumer defines no chat_msg()" in note["evaluation"]
    assert "No handler for message type chat.msg" in note["result"] and "a, b are closed" in note["result"]


async def test_send_before_accept():
    code = (
        HEAD
        + """
class Eager(AsyncWebsocketConsumer):
    async def connect(self):
        await self.send(text_data="welcome")
        await self.accept()
"""
    )
    events = await run_script(code, [connect()], FAST)
    note = notes(events, "send_before_accept")[0]
    assert (note["client"], note["method"], note["line"]) == ("c1", "connect", 6)
    assert note["action"] == "send(text_data='welcome') before accept()"
    assert "accept() first" in note["result"]
    # As under Daphne (tests/fidelity/test_daphne_claims.py): send() raises, so the handshake is refused with 500.
    assert "Socket has not been accepted" in of(events, "error")[0]["message"]
    assert of(events, "consumer.reject")[0]["status"] == 500
    assert not of(events, "consumer.accept") and not of(events, "consumer.send")


async def test_sync_consumer_calling_the_layer_without_async_to_sync():
    code = (
        HEAD
        + """
class Lonely(WebsocketConsumer):
    def connect(self):
        self.channel_layer.group_add("room", self.channel_name)
        self.accept()
"""
    )
    events = await run_script(code, [connect()], FAST)
    note = notes(events, "unawaited")[0]
    assert (note["client"], note["method"], note["line"]) == ("c1", "connect", 6)
    assert (
        note["action"] == 'self.channel_layer.group_add("room", self.channel_name) called from sync code in connect()'
    )
    assert 'async_to_sync(self.channel_layer.group_add)("room", self.channel_name)' in note["result"]
    assert not traces(events, "group_add")


async def test_every_close_explains_its_code():
    events = await run_script(consumers.CLOSE_CODE, [connect(), text("c1", "bye")], FAST)
    assert "4001: application-defined" in traces(events, "close")[0]["result"]
    assert "application-defined" in traces(events, "disconnect")[0]["result"]
    events = await run_script(consumers.ASYNC_COUNTER, [connect(), close("c1", 1001)], FAST)
    assert "going away" in traces(events, "disconnect")[0]["result"]
    events = await run_script(consumers.RAISES_IN_RECEIVE, [connect(), text("c1", "two")], FAST)
    server_close = traces(events, "close")[0]
    assert "1011" in server_close["result"] and "server error" in server_close["result"]
    events = await run_script(consumers.DENY, [connect()], FAST)
    assert "1006" in traces(events, "reject")[0]["result"]


ECHO_STARTER = (ROOT / "content/starters/echo.py").read_text(encoding="utf-8")
NEVER_ANSWERS = (
    HEAD
    + """
class Undecided(AsyncWebsocketConsumer):
    async def connect(self):
        if self.scope["query_string"] == b"late":
            await asyncio.sleep(0.5)
            await self.accept()

    async def disconnect(self, code):
        print("disconnect", code)
"""
)
HOLDS_THE_LOOP = (
    HEAD
    + """
class Holder(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "spin":
            while True:
                pass
        time.sleep(60)
"""
)


async def test_a_path_with_no_route_is_refused_with_its_cause():
    events = await run_script(ECHO_STARTER, [connect("c1", "/ws/wrong/")], FAST)
    (refusal,) = of(events, "consumer.reject")
    assert refusal["status"] == 500
    assert refusal["reason"] == "no route matches /ws/wrong/ (routes: ws/echo/)"
    (row,) = traces(events, "reject")
    assert "no route matches /ws/wrong/" in row["action"] and "HTTP 500" in row["evaluation"]
    assert "1006" in row["result"] and "websocket_urlpatterns" in row["result"]
    assert "No route found for path 'ws/wrong/'" in of(events, "error")[0]["message"]


async def test_a_close_the_client_started_is_the_clients_code():
    events = await run_script(ECHO_STARTER, [connect("c2", "/ws/echo/"), close("c2", 4321)], FAST)
    assert of(events, "consumer.close", client="c2")[0]["by"] == "client"
    (row,) = traces(events, "disconnect")
    assert row["action"] == "c2 closes the connection with code 4321"
    assert "Daphne answers c2's close frame with code 1000" in row["evaluation"]
    assert "the client chose it" in row["result"] and "your consumer" not in row["result"]


async def test_a_handshake_nobody_answers_is_dropped_at_the_timeout_and_not_before():
    limits = FAST.replace(handshake_timeout_seconds=1.5)
    ops = [connect("c1", "/ws/"), connect("c2", "/ws/", query="late"), {"type": "wait", "seconds": 3}]
    events = await run_script(NEVER_ANSWERS, ops, limits)
    (drop,) = of(events, "consumer.drop")
    assert drop["client"] == "c1" and "1.5 s" in drop["reason"] and "handshake timeout" in drop["reason"]
    assert of(events, "consumer.accept", client="c2")  # answered in 0.5 s: under the timeout, kept
    (row,) = traces(events, "reject")
    assert row["client"] == "c1" and "WSDISCONNECT" in row["evaluation"] and "disconnect(1006)" in row["result"]
    assert "disconnect 1006" in output(events, "stdout")


async def test_an_endless_loop_is_reported_while_it_runs_and_a_client_connecting_meanwhile_appears():
    # CPU time, not wall time: a loaded machine may take long to give the loop 4 s of CPU; the wait ends with the run.
    limits = FAST.replace(
        cpu_seconds=4, run_cpu_seconds=8, lifetime_seconds=COMMAND_SECONDS, idle_seconds=COMMAND_SECONDS
    )
    ops = [
        connect("c1", "/ws/"),
        text("c1", "spin"),
        connect("c2", "/ws/"),
        {"type": "wait", "seconds": COMMAND_SECONDS},
    ]
    events = await run_script(code := HOLDS_THE_LOOP, ops, limits, timeout=COMMAND_SECONDS, settle_timeout=1.5)
    held = notes(events, "loop_held")
    spinning = [n for n in held if n["client"] == "c1"][0]
    assert (spinning["method"], spinning["line"]) == ("receive", 10)
    assert "still running at line 10 (while True:)" in spinning["action"]
    waiting = [n for n in held if n["client"] == "c2"][0]
    assert waiting["state"] == "none" and (waiting["method"], waiting["line"]) == ("receive", 10)
    assert "c2 opens a WebSocket to /ws/ while receive() (line 10) holds the event loop" == waiting["action"]
    assert not of(events, "consumer.accept", client="c2")
    end = final(events)
    assert (end["reason"], end["what"]) == ("limit", "cpu")
    assert end["detail"] == "the run used its 4 s of CPU: receive() was still running line 10 (while True:)"
    assert code.splitlines()[9].strip() == "while True:"


async def test_a_blocking_call_is_reported_while_it_blocks():
    ops = [connect("c1", "/ws/"), text("c1", "sleep"), {"type": "wait", "seconds": 2}]
    events = await run_script(HOLDS_THE_LOOP, ops, FAST, settle_timeout=1.5)
    (held,) = notes(events, "loop_held")
    assert (held["client"], held["method"], held["line"]) == ("c1", "receive", 12)
    assert "receive() is still running at line 12 (time.sleep(60))" in held["action"]
    assert not notes(events, "blocking")  # the after-the-fact note cannot come: the call never returned
