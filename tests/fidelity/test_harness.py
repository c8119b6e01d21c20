"""The harness itself: it sees what a real Daphne does, and it reports a difference when the sandbox differs."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.fidelity.harness import AFTER_TIMEOUT, HANDSHAKE_DROPPED, IMMEDIATE, PENDING, Case, run_case

ECHO = (ROOT / "content/starters/echo.py").read_text(encoding="utf-8")
NEVER_ACCEPTS = """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class QuietConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        print("connect() returned without accept()")

    async def disconnect(self, code):
        print("disconnect", code)


websocket_urlpatterns = [path("ws/quiet/", QuietConsumer.as_asgi())]
"""
RAISES = """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class FragileConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        if self.scope["query_string"] == b"fail":
            raise ValueError("refused in connect")
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        raise KeyError(text_data)


websocket_urlpatterns = [path("ws/fragile/", FragileConsumer.as_asgi())]
"""


def connect(client: str, path: str, **extra):
    return {"type": "client.connect", "client": client, "path": path, **extra}


async def test_echo_is_the_same_on_both_sides(fidelity_daphne):
    script = (connect("c1", "/ws/echo/"), {"type": "client.send", "client": "c1", "text": "hi"})
    result = await run_case(
        fidelity_daphne, Case("harness_echo", ECHO, script + ({"type": "client.close", "client": "c1", "code": 1000},))
    )
    assert result.differences() == []
    assert result.daphne.clients["c1"] == [
        {"type": "consumer.accept", "subprotocol": None},
        {"type": "consumer.send", "text": "hi"},
        {"type": "consumer.close", "code": 1000, "by": "client"},
    ]
    assert result.daphne.log == [
        '"WSCONNECTING /ws/echo/" - -',
        '"WSCONNECT /ws/echo/" - -',
        '"WSDISCONNECT /ws/echo/" - -',
    ]


async def test_a_handshake_nobody_answers_is_dropped_by_daphne_and_reported_as_a_difference(fidelity_daphne):
    result = await run_case(fidelity_daphne, Case("harness_never", NEVER_ACCEPTS, (connect("c1", "/ws/quiet/"),)))
    assert result.daphne.clients["c1"] == [{"type": HANDSHAKE_DROPPED}]
    assert result.daphne.timing["c1"] == AFTER_TIMEOUT
    assert "disconnect 1006" in result.daphne.log
    assert '"WSDISCONNECT /ws/quiet/" - -' in result.daphne.log
    assert not any("WSREJECT" in line for line in result.daphne.log)
    assert result.sandbox.timing["c1"] == PENDING
    assert len(result.differences()) == 2


async def test_exceptions_close_with_1011_or_refuse_with_500_and_daphne_logs_them(fidelity_daphne):
    script = (
        connect("c1", "/ws/fragile/"),
        {"type": "client.send", "client": "c1", "text": "boom"},
        connect("c2", "/ws/fragile/", query="fail"),
    )
    result = await run_case(fidelity_daphne, Case("harness_raises", RAISES, script))
    assert result.differences() == []
    assert result.daphne.clients == {
        "c1": [
            {"type": "consumer.accept", "subprotocol": None},
            {"type": "consumer.close", "code": 1011, "by": "server"},
        ],
        "c2": [{"type": "consumer.reject", "status": 500}],
    }
    assert result.daphne.timing == {"c1": IMMEDIATE, "c2": IMMEDIATE}
    assert sorted(result.daphne.exceptions) == ["KeyError", "ValueError"]
    assert "ERROR    Exception inside application: refused in connect" in result.daphne.log


async def test_a_module_that_does_not_load_is_a_load_error_on_both_sides(fidelity_daphne):
    result = await run_case(
        fidelity_daphne, Case("harness_broken", "import not_a_module\n", (connect("c1", "/ws/x/"),))
    )
    assert result.sandbox.load_error == result.daphne.load_error == "ModuleNotFoundError"
