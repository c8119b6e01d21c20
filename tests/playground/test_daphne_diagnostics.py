"""Each playground diagnostic says what a real Daphne does: the same consumer and client script run in the sandbox and
under `python -m daphne` on loopback (tests/fidelity/harness.py), and what the page says is checked against what the
real WebSocket client saw and what Daphne logged at its default verbosity."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from websockets.asyncio.client import connect as ws_connect

from playground.run.limits import run_limits
from playground.run.page_messages import page_message
from playground.sandbox import run_script
from playground.sandbox_supply import sandbox_options
from tests.conftest import COMMAND_SECONDS, ROOT
from tests.fidelity.harness import AFTER_TIMEOUT, HANDSHAKE_DROPPED, IMMEDIATE, Case, DaphneUnderTest, run_case

pytestmark = pytest.mark.asyncio(loop_scope="session")

ECHO = (ROOT / "content/starters/echo.py").read_text(encoding="utf-8")
HEAD = """import time
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path
"""
TELLS_ITS_CLOSE = (
    HEAD
    + """

class Teller(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def disconnect(self, code):
        print("disconnect", code)


websocket_urlpatterns = [path("ws/tell/", Teller.as_asgi())]
"""
)
FORGETS_AWAIT = (
    HEAD
    + """

class Forgetful(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=text_data)


websocket_urlpatterns = [path("ws/forget/", Forgetful.as_asgi())]
"""
)
NEVER_ACCEPTS = (
    HEAD
    + """

class Silent(AsyncWebsocketConsumer):
    async def connect(self):
        self.asked = True

    async def disconnect(self, code):
        print("disconnect", code)


websocket_urlpatterns = [path("ws/silent/", Silent.as_asgi())]
"""
)
BLOCKS = (
    HEAD
    + """

class Sleeper(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        print("sleeping", flush=True)
        time.sleep(3600)


websocket_urlpatterns = [path("ws/sleep/", Sleeper.as_asgi())]
"""
)
# A second client's handshake that a blocked Daphne leaves unanswered for longer than its own 5 s handshake timeout.
UNANSWERED_SECONDS = 8.0


def connect(client: str, path: str, **extra):
    return {"type": "client.connect", "client": client, "path": path, **extra}


def page_says(events: list[dict], kind: str, client: str) -> dict:
    """The page message the learner's page gets for the sandbox event of `kind` about `client`."""
    (event,) = [e for e in events if e["type"] == kind and e.get("client") == client]
    message = page_message(event)
    assert message is not None
    return message


def rows(events: list[dict], kind: str, client: str | None = None) -> list[dict]:
    return [e for e in events if e["type"] == "trace" and e["kind"] == kind and client in (None, e["client"])]


async def in_sandbox(code: str, script: list[dict]) -> list[dict]:
    return await run_script(code, script, run_limits(), COMMAND_SECONDS, options=sandbox_options(), settle_timeout=2.0)


def until_logged(server: DaphneUnderTest, text: str) -> None:
    """Wait until Daphne's output holds `text` (the consumer printed it), within COMMAND_SECONDS (run in a thread)."""
    deadline = time.monotonic() + COMMAND_SECONDS
    while text not in server.stdout_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"Daphne never printed {text!r}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    server = DaphneUnderTest(tmp_path_factory.mktemp("daphne-diagnostics"))
    yield server
    server.stop()


async def test_no_route_is_http_500_with_the_cause_on_the_page(daphne):
    script = [connect("c1", "/ws/wrong/")]
    real = (await run_case(daphne, Case("diag_no_route", ECHO, tuple(script)))).daphne
    assert real.clients["c1"] == [{"type": "consumer.reject", "status": 500}]
    assert real.timing["c1"] == IMMEDIATE
    assert "ERROR    Exception inside application: No route found for path 'ws/wrong/'." in real.log

    events = await in_sandbox(ECHO, script)
    said = page_says(events, "consumer.reject", "c1")
    assert said["status"] == 500  # the status Daphne answered, not 403
    assert said["explanation"].startswith("no route matches /ws/wrong/ (routes: ws/echo/)")
    assert "HTTP 500" in said["explanation"] and "logs the exception" in said["explanation"]
    assert "1006" in said["explanation"]
    (row,) = rows(events, "reject", "c1")
    assert "no route" in row["action"] and "ERROR Exception inside application" in row["evaluation"]


async def test_a_close_the_client_started_is_described_as_the_clients_and_daphne_answers_1000(daphne):
    case = Case("diag_client_close", TELLS_ITS_CLOSE, (connect("c2", "/ws/tell/"),))
    (daphne.cases_dir / f"{case.name}.py").write_text(case.code, encoding="utf-8")
    status, _ = await asyncio.to_thread(daphne.control, "load", case.name)
    assert status == 200
    start = daphne.log_size()
    async with ws_connect(f"ws://127.0.0.1:{daphne.port}/case/{case.name}/ws/tell/", origin="http://playground") as ws:
        await ws.close(code=4321)
        answered = ws.protocol.close_rcvd
    await asyncio.to_thread(daphne.control, "mark", case.name, token="client-close")
    log = daphne.log_since(start, "client-close")
    assert answered is not None and answered.code == 1000  # Autobahn answers 1000; it does not echo 4321
    assert "disconnect 4321" in log  # the consumer gets the client's own code

    events = await in_sandbox(
        TELLS_ITS_CLOSE, [connect("c2", "/ws/tell/"), {"type": "client.close", "client": "c2", "code": 4321}]
    )
    said = page_says(events, "consumer.close", "c2")
    assert said["by"] == "client"
    assert "you closed with code 4321" in said["explanation"] and "the client chose it" in said["explanation"]
    assert "Daphne answers with close code 1000" in said["explanation"]
    assert "your consumer chose it" not in said["explanation"]
    (row,) = rows(events, "disconnect", "c2")
    assert "disconnect(4321)" in row["evaluation"] and "the client chose it" in row["result"]
    assert "disconnect 4321" in "".join(e["text"] for e in events if e["type"] == "output")


async def test_send_without_await_sends_nothing_and_daphne_logs_nothing_at_its_default_verbosity(daphne):
    script = [
        connect("c1", "/ws/forget/"),
        {"type": "client.send", "client": "c1", "text": "hi"},
        {"type": "wait", "seconds": 1},
    ]
    real = (await run_case(daphne, Case("diag_unawaited", FORGETS_AWAIT, tuple(script)))).daphne
    assert real.clients["c1"][0] == {"type": "consumer.accept", "subprotocol": None}
    assert not [seen for seen in real.clients["c1"] if seen["type"] == "consumer.send"]
    assert not [line for line in real.log if "never awaited" in line or "RuntimeWarning" in line]

    events = await in_sandbox(FORGETS_AWAIT, script)
    assert not [e for e in events if e["type"] == "consumer.send"]
    (note,) = [r for r in rows(events, "note", "c1") if r.get("topic") == "unawaited"]
    assert note["result"].startswith("the frame is never sent. Write await self.send(text_data=text_data).")
    assert "Under Daphne at its default verbosity nothing is logged about it" in note["result"]
    assert not rows(events, "output")  # no "print() writes to stderr" row for Python's warning


async def test_a_handshake_nobody_answers_is_dropped_after_the_timeout_on_both_sides(daphne):
    script = [connect("c1", "/ws/silent/"), {"type": "wait", "seconds": 7}]
    real = (await run_case(daphne, Case("diag_never_accepts", NEVER_ACCEPTS, tuple(script)))).daphne
    assert real.clients["c1"] == [{"type": HANDSHAKE_DROPPED}]
    assert real.timing["c1"] == AFTER_TIMEOUT
    assert '"WSDISCONNECT /ws/silent/" - -' in real.log and "disconnect 1006" in real.log
    assert not [line for line in real.log if "WSREJECT" in line]

    events = await in_sandbox(NEVER_ACCEPTS, script)
    said = page_says(events, "consumer.drop", "c1")
    assert "Daphne's handshake timeout dropped the connection" in said["explanation"]
    assert "no HTTP answer" in said["explanation"] and "1006" in said["explanation"]
    assert not [e for e in events if e["type"] in ("consumer.reject", "consumer.accept")]
    assert rows(events, "disconnect", "c1")[0]["action"].endswith("(code 1006)")
    dropped_at = rows(events, "reject", "c1")[0]["t"] - rows(events, "connect", "c1")[0]["t"]
    assert dropped_at >= run_limits().handshake_timeout_seconds * 1000  # after the timeout, never before
    assert "disconnect 1006" in "".join(e["text"] for e in events if e["type"] == "output")


async def test_a_blocked_handler_freezes_daphne_and_the_page_says_so_while_it_blocks(tmp_path):
    server = DaphneUnderTest(tmp_path)  # its own process: a blocked Daphne cannot serve other cases, nor stop
    first = None
    try:
        (server.cases_dir / "diag_blocked.py").write_text(BLOCKS, encoding="utf-8")
        status, _ = await asyncio.to_thread(server.control, "load", "diag_blocked")
        assert status == 200
        base = f"ws://127.0.0.1:{server.port}/case/diag_blocked/ws/sleep/"
        first = await ws_connect(base, origin="http://playground")
        await first.send("nap")
        await asyncio.to_thread(until_logged, server, "sleeping")
        with pytest.raises(TimeoutError):  # not even Daphne's own 5 s handshake timeout fires: its loop is held
            async with ws_connect(base, origin="http://playground", open_timeout=UNANSWERED_SECONDS):
                pass
        log = server.stderr_path.read_text() + server.stdout_path.read_text()
        assert log.count('"WSCONNECTING /case/diag_blocked/ws/sleep/"') == 1  # the second one is not even logged
    finally:
        server.proc.kill()  # SIGTERM waits for the loop, which never comes back
        server.proc.wait()
        if first is not None:
            with contextlib.suppress(Exception):
                await first.close()

    script = [
        connect("c1", "/ws/sleep/"),
        {"type": "client.send", "client": "c1", "text": "nap"},
        connect("c2", "/ws/sleep/"),
        {"type": "wait", "seconds": 2},
    ]
    events = await in_sandbox(BLOCKS, script)
    held = [r for r in rows(events, "note") if r.get("topic") == "loop_held"]
    blocking = [r for r in held if r["client"] == "c1"][0]
    assert (blocking["method"], blocking["line"]) == ("receive", 12)
    assert "still running at line 12 (time.sleep(3600))" in blocking["action"]
    assert "new connections are not even logged" in blocking["evaluation"]
    waiting = [r for r in held if r["client"] == "c2"][0]
    assert waiting["state"] == "none" and "Daphne does not even log WSCONNECTING" in waiting["evaluation"]
    assert not [e for e in events if e["type"] == "consumer.accept" and e["client"] == "c2"]
