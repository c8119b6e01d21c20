"""What a real Daphne 4.2 does in the situations the lessons and quizzes describe. Content that states one of these
facts carries `checked: tests/fidelity/test_daphne_claims.py::TEST` (tests/fidelity/test_claim_markers.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import COMMAND_SECONDS, ROOT
from tests.fidelity.differences import explain
from tests.fidelity.harness import AFTER_TIMEOUT, HANDSHAKE_DROPPED, IMMEDIATE, PENDING, Case, run_case


def module(body: str, route: str = "ws/x/") -> str:
    return (
        "import json\n"
        "from asgiref.sync import async_to_sync\n"
        "from channels.exceptions import DenyConnection\n"
        "from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer\n"
        "from django.urls import path\n\n\n"
        f"{body}\n\n"
        f'websocket_urlpatterns = [path("{route}", Consumer.as_asgi())]\n'
    )


def connect(client: str = "c1", path: str = "/ws/x/", **extra):
    return {"type": "client.connect", "client": client, "path": path, **extra}


def send(text: str, client: str = "c1"):
    return {"type": "client.send", "client": client, "text": text}


def access(log: list[str], what: str) -> list[str]:
    return [line for line in log if line.startswith(f'"{what} ')]


NEVER_ACCEPTS = module(
    """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.accept()  # the missing await: accept() never happens

    async def disconnect(self, code):
        print("disconnect", code)


class StampMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        return self.inner(scope, receive, send)  # the missing await: no consumer runs at all
"""
).replace(
    "websocket_urlpatterns = [", 'websocket_urlpatterns = [path("ws/stamped/", StampMiddleware(Consumer.as_asgi())), '
)


async def test_a_handshake_nobody_answers_is_dropped_after_the_timeout_with_wsdisconnect_and_1006(fidelity_daphne):
    """Autobahn's openHandshakeTimeout (Daphne sets it to --websocket_connect_timeout, 5 s) drops the TCP connection
    before Daphne's own 403 could: no HTTP answer, WSDISCONNECT (never WSREJECT), disconnect(1006), and no warning
    about the unawaited accept() at the default verbosity. A middleware that returns without awaiting the consumer
    ends the same way (the application returned; Daphne answers nothing)."""
    script = (connect(), connect("c2", "/ws/stamped/"))
    result = await run_case(fidelity_daphne, Case("claim_never_accepts", NEVER_ACCEPTS, script))
    log = result.daphne.log
    assert result.daphne.clients == {"c1": [{"type": HANDSHAKE_DROPPED}], "c2": [{"type": HANDSHAKE_DROPPED}]}
    assert result.daphne.timing == {"c1": AFTER_TIMEOUT, "c2": AFTER_TIMEOUT}
    assert len(access(log, "WSDISCONNECT")) == 2 and not access(log, "WSREJECT")
    assert "disconnect 1006" in log
    assert not any("never awaited" in line or "RuntimeWarning" in line for line in log)
    assert result.sandbox.timing == {"c1": PENDING, "c2": PENDING}
    assert {explain(difference, result).id for difference in result.differences()} == {"pending-handshake"}


UNAWAITED_SEND = module("""
class Consumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        self.send(text_data="lost")
        await self.send(text_data="sent")
""")


async def test_an_unawaited_coroutine_warns_nothing_in_daphnes_default_log(fidelity_daphne):
    """Daphne at verbosity 1 sends Twisted's log nowhere and Python's warnings with it (daphne/server.py): the
    RuntimeWarning "coroutine ... was never awaited" does not appear; only the missing frame shows the mistake."""
    script = (connect(), send("hi"), {"type": "client.close", "client": "c1", "code": 1000})
    result = await run_case(fidelity_daphne, Case("claim_unawaited_send", UNAWAITED_SEND, script))
    assert result.daphne.clients["c1"][1:2] == [{"type": "consumer.send", "text": "sent"}]
    assert result.differences() == []
    assert not any("never awaited" in line or "RuntimeWarning" in line for line in result.daphne.log)


REFUSES = module("""
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        if self.scope["query_string"] == b"deny":
            raise DenyConnection()
        if self.scope["query_string"] == b"close":
            await self.close()
            return
        if self.scope["query_string"] == b"raise":
            raise RuntimeError("broken connect")
        if self.scope["query_string"] == b"early":
            await self.send(text_data="too early")
        await self.accept()
""")


async def test_refusals_are_immediate_403_with_wsreject_and_errors_are_500_with_a_traceback(fidelity_daphne):
    """close() before accept(), DenyConnection and a foreign Origin (AllowedHostsOriginValidator) answer HTTP 403 at
    once and log WSREJECT without a traceback; an exception in connect() answers 500 and logs "Exception inside
    application" with the traceback, then WSDISCONNECT (no WSREJECT); so does send() before accept(), which raises
    ValueError (daphne/ws_protocol.py, handle_reply)."""
    script = (
        connect("deny", query="deny"),
        connect("close", query="close"),
        connect("origin", headers=[["origin", "https://evil.example"]]),
        connect("raise", query="raise"),
        connect("early", query="early"),
    )
    result = await run_case(fidelity_daphne, Case("claim_refusals", REFUSES, script))
    assert [explain(difference, result).id for difference in result.differences()] == ["origin-unchecked"]
    clients = result.daphne.clients
    assert clients["deny"] == clients["close"] == clients["origin"] == [{"type": "consumer.reject", "status": 403}]
    assert clients["raise"] == clients["early"] == [{"type": "consumer.reject", "status": 500}]
    assert set(result.daphne.timing.values()) == {IMMEDIATE}
    assert len(access(result.daphne.log, "WSREJECT")) == 3
    assert "ERROR    Exception inside application: broken connect" in result.daphne.log
    assert (
        "ERROR    Exception inside application: Socket has not been accepted, so cannot send over it"
        in result.daphne.log
    )
    assert sorted(result.daphne.exceptions) == ["RuntimeError", "ValueError"]


async def test_a_path_no_route_matches_is_a_500_with_no_route_found(fidelity_daphne):
    """URLRouter raises ValueError("No route found for path ...") (channels/routing.py), which Daphne answers with 500
    and logs as "Exception inside application"."""
    case = Case(
        "claim_no_route", module("class Consumer(AsyncWebsocketConsumer):\n    pass"), (connect(path="/ws/else/"),)
    )
    result = await run_case(fidelity_daphne, case)
    assert result.differences() == []
    assert result.daphne.clients["c1"] == [{"type": "consumer.reject", "status": 500}]
    assert "ERROR    Exception inside application: No route found for path 'ws/else/'." in result.daphne.log


def test_daphne_after_staticfiles_stops_check_and_runserver_with_daphne_e001(tmp_path):
    """daphne/checks.py registers daphne.E001; with staticfiles first `manage.py check` (and so runserver) fails."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tests.fidelity.project.settings",
        "FIDELITY_DATABASE": str(tmp_path / "db.sqlite3"),
        "FIDELITY_APPS_BEFORE": "django.contrib.staticfiles,daphne",
    }
    checked = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert checked.returncode == 1
    assert (
        "daphne.E001" in checked.stderr and "Daphne must be listed before django.contrib.staticfiles" in checked.stderr
    )


UNOFFERED_SUBPROTOCOL = module("""
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept(subprotocol="chat.v2")

    async def disconnect(self, code):
        print("disconnect", code)
""")


async def test_accepting_a_subprotocol_the_client_did_not_offer_fails_the_handshake(fidelity_daphne):
    """Autobahn refuses to answer with a protocol the client did not offer ("protocol accepted must be from the list
    client sent or None"): no 101, no 403; the handshake is dropped by the timeout. The playground keeps it pending."""
    result = await run_case(fidelity_daphne, Case("claim_unoffered_subprotocol", UNOFFERED_SUBPROTOCOL, (connect(),)))
    assert result.daphne.clients["c1"] == [{"type": HANDSHAKE_DROPPED}]
    assert result.daphne.timing["c1"] == AFTER_TIMEOUT
    assert "disconnect 1006" in result.daphne.log and not access(result.daphne.log, "WSREJECT")
    assert {explain(difference, result).id for difference in result.differences()} == {"pending-handshake"}


STOPS = module("""
from channels.exceptions import StopConsumer


class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        if self.scope["query_string"] == b"slow":
            print("connect() waits")
            return
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        raise StopConsumer()

    async def disconnect(self, code):
        print("disconnect", code)
""")


async def test_a_consumer_that_stops_leaves_its_socket_open_and_a_client_leaving_mid_handshake_means_1006(
    fidelity_daphne,
):
    """Daphne closes nothing when an application returns (daphne/server.py, application_checker): after
    StopConsumer the socket stays open and later frames vanish. A client that gives up during the handshake can only
    drop the connection, so the consumer's disconnect() gets 1006."""
    script = (
        connect(),
        send("stop"),
        send("into the void"),
        {"type": "client.close", "client": "c1", "code": 1000},
        connect("c2", query="slow"),
        {"type": "client.close", "client": "c2", "code": 1000},
    )
    result = await run_case(fidelity_daphne, Case("claim_stops", STOPS, script))
    assert result.differences() == []
    assert result.daphne.clients["c1"] == [
        {"type": "consumer.accept", "subprotocol": None},
        {"type": "consumer.close", "code": 1000, "by": "client"},
    ]
    assert result.daphne.clients["c2"] == [{"type": "consumer.close", "code": 1006, "by": "client"}]
    assert "disconnect 1006" in result.daphne.log
