"""Diagnostics: mistakes Channels does not explain become `note` rows naming the method and the learner line."""

from __future__ import annotations

import json

import pytest

from playground.sandbox import run_script
from playground.sandbox.shared import protocol

from . import consumers
from .support import FAST, close, connect, of, text, traces

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
    assert "refused" in note["result"] and "1006" in note["result"]
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
    assert note["result"] == "the frame is never sent. Write await self.send(text_data=reply)"
    assert not of(events, "consumer.send")


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
