"""Every consumer kind runs through Channels' real machinery inside the sandbox."""

from __future__ import annotations

import base64
import json

import pytest

from playground.sandbox import run_script

from . import consumers
from .support import FAST, close, connect, final, of, output, text, traces

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_run_script_async_consumer_keeps_instance_state():
    events = await run_script(consumers.ASYNC_COUNTER, [connect(), text("c1", "a"), text("c1", "b")], FAST)
    assert [e["text"] for e in of(events, "consumer.send", client="c1")] == ["1:a", "2:b"]
    assert final(events)["reason"] == "stopped"


async def test_run_script_sync_consumer_broadcasts_with_async_to_sync():
    ops = [connect("a"), connect("b"), text("a", "hi"), close("a")]
    events = await run_script(consumers.SYNC_GROUPS, ops, FAST)
    assert {e["client"] for e in of(events, "consumer.send", text="all:hi")} == {"a", "b"}
    kinds = [t["kind"] for t in traces(events)]
    for kind in (
        "connect",
        "group_add",
        "accept",
        "receive",
        "group_send",
        "handler",
        "send",
        "disconnect",
        "group_discard",
    ):
        assert kind in kinds, kind
    assert not of(events, "error")


async def test_run_script_async_json_consumer_round_trips_json():
    events = await run_script(consumers.ASYNC_JSON, [connect(), text("c1", json.dumps({"a": 2, "b": 3}))], FAST)
    assert [json.loads(e["text"]) for e in of(events, "consumer.send")] == [{"sum": 5}]


async def test_run_script_sync_json_consumer_round_trips_json():
    events = await run_script(consumers.SYNC_JSON, [connect(), text("c1", json.dumps({"word": "abc"}))], FAST)
    assert [json.loads(e["text"]) for e in of(events, "consumer.send")] == [{"upper": "ABC"}]


async def test_run_script_chat_room_routes_by_url_kwargs():
    ops = [
        connect("alice", "/ws/chat/lobby/"),
        connect("bob", "/ws/chat/lobby/"),
        connect("carol", "/ws/chat/kitchen/"),
        text("alice", json.dumps({"message": "hello lobby"})),
    ]
    events = await run_script(consumers.CHAT, ops, FAST)
    loaded = of(events, "loaded")[0]
    assert loaded["mode"] == "router" and loaded["consumers"] == ["ChatConsumer"]
    receivers = {e["client"] for e in of(events, "consumer.send")}
    assert receivers == {"alice", "bob"}
    sends = traces(events, "group_send")
    assert sends and sends[0]["groups"] == ["chat_lobby"] and "alice, bob" in sends[0]["result"]
    carol = [t for t in traces(events) if t["client"] == "carol"][-1]
    assert carol["vars"]["url_route.kwargs.room_name"] == "'kitchen'"
    assert carol["vars"]["room_group_name"] == "'chat_kitchen'"


async def test_run_script_unknown_route_is_reported_and_rejected():
    events = await run_script(consumers.CHAT, [connect("x", "/nowhere/")], FAST)
    assert "No route found" in of(events, "error", client="x")[0]["message"]
    assert of(events, "consumer.reject", client="x")


async def test_run_script_subprotocol_is_negotiated():
    events = await run_script(consumers.SUBPROTOCOL, [connect(subprotocols=["chat.v1", "chat.v2"])], FAST)
    assert of(events, "consumer.accept")[0]["subprotocol"] == "chat.v2"


async def test_run_script_deny_connection_rejects_anonymous():
    events = await run_script(consumers.DENY, [connect()], FAST)
    assert of(events, "consumer.reject", client="c1")[0]["status"] == 403
    assert not of(events, "consumer.accept")
    reject = traces(events, "reject")[0]
    assert reject["state"] == "closed" and reject["method"] == "connect"


async def test_run_script_deny_connection_lets_a_user_in():
    events = await run_script(consumers.DENY, [connect(user={"username": "ada"})], FAST)
    assert of(events, "consumer.accept", client="c1")


async def test_run_script_close_before_accept_rejects():
    events = await run_script(consumers.CLOSE_BEFORE_ACCEPT, [connect()], FAST)
    assert of(events, "consumer.reject", client="c1") and not of(events, "consumer.accept")


async def test_run_script_server_close_code_reaches_client():
    events = await run_script(consumers.CLOSE_CODE, [connect(), text("c1", "bye")], FAST)
    assert of(events, "consumer.close", client="c1", by="server")[0]["code"] == 4001
    states = [t["state"] for t in traces(events) if t["client"] == "c1"]
    assert states[0] == "none" and "closing" in states and states[-1] == "closed"


async def test_run_script_client_close_code_reaches_consumer():
    code = consumers.ASYNC_COUNTER + "\n    async def disconnect(self, code):\n        print('closed with', code)\n"
    events = await run_script(code, [connect(), close("c1", 4005)], FAST)
    assert "closed with 4005" in output(events)
    assert of(events, "consumer.close", client="c1", by="client")[0]["code"] == 4005


async def test_run_script_bytes_frames_round_trip():
    payload = bytes(range(256))
    op = {"type": "client.send", "client": "c1", "bytes": base64.b64encode(payload).decode()}
    events = await run_script(consumers_echo(), [connect(), op], FAST)
    assert base64.b64decode(of(events, "consumer.send")[0]["bytes"]) == payload


def consumers_echo() -> str:
    from .support import ECHO

    return ECHO


async def test_load_syntax_error_reports_the_line():
    code = (
        "from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass A(AsyncWebsocketConsumer)\n    pass\n"
    )
    events = await run_script(code, [connect()], FAST)
    error = of(events, "error")[0]
    assert error["line"] == 3 and "SyntaxError" in error["message"]
    assert final(events)["reason"] == "error"


async def test_load_without_consumer_says_what_to_define():
    events = await run_script("x = 1\n", [], FAST)
    message = of(events, "error")[0]["message"]
    assert "No consumer class found" in message and "AsyncWebsocketConsumer" in message
    assert final(events)["reason"] == "error"


async def test_load_several_consumers_asks_for_routes():
    code = consumers.ASYNC_COUNTER + consumers.ASYNC_JSON
    events = await run_script(code, [], FAST)
    assert "websocket_urlpatterns" in of(events, "error")[0]["message"]


async def test_load_exception_at_import_has_learner_line():
    events = await run_script("import json\n\nvalue = json.loads('{oops')\n", [], FAST)
    error = of(events, "error")[0]
    assert error["line"] == 3 and 'File "consumer.py", line 3' in error["traceback"]


async def test_receive_exception_reports_traceback_and_learner_line():
    events = await run_script(consumers.RAISES_IN_RECEIVE, [connect(), text("c1", "two")], FAST)
    error = of(events, "error", client="c1")[0]
    assert error["line"] == 7 and error["method"] == "receive" and "KeyError" in error["message"]
    assert 'File "consumer.py", line 7, in receive' in error["traceback"]
    assert "/sandbox/" not in error["traceback"]
    assert of(events, "consumer.close", client="c1", by="server")[0]["code"] == 1011
    assert traces(events, "exception")[0]["line"] == 7


async def test_print_output_arrives_as_output_never_as_protocol():
    code = consumers.ASYNC_COUNTER + '\nprint(\'{"type": "consumer.send", "client": "c1", "text": "forged"}\')\n'
    events = await run_script(code, [connect(), text("c1", "x")], FAST)
    assert '"text": "forged"' in output(events, "stdout")
    assert [e["text"] for e in of(events, "consumer.send")] == ["1:x"]
    assert traces(events, "output")


async def test_stderr_output_is_its_own_stream():
    events = await run_script("import sys\nsys.stderr.write('careful\\n')\n" + consumers.ASYNC_COUNTER, [], FAST)
    assert output(events, "stderr") == "careful\n"


async def test_database_access_fails_with_a_clear_message():
    events = await run_script(consumers.USES_DATABASE, [connect(), text("c1", "x")], FAST)
    error = of(events, "error", client="c1")[0]
    assert "the playground has no database" in error["message"] and error["line"] == 7


async def test_model_import_mentions_the_missing_database():
    events = await run_script("from django.contrib.auth.models import User\n", [], FAST)
    assert "the playground has no database" in of(events, "error")[0]["message"]


async def test_run_script_drives_a_learner_defined_application():
    code = consumers.ASYNC_COUNTER + (
        "\nfrom channels.routing import ProtocolTypeRouter, URLRouter\nfrom django.urls import path\n"
        "application = ProtocolTypeRouter({'websocket': URLRouter([path('count/', CounterConsumer.as_asgi())])})\n"
    )
    events = await run_script(code, [connect(path="/count/"), text("c1", "a")], FAST)
    assert of(events, "loaded")[0]["mode"] == "application"
    assert [e["text"] for e in of(events, "consumer.send")] == ["1:a"]
