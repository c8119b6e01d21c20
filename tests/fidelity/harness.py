"""The fidelity harness: one consumer module and one client script, run in the playground sandbox and under a real
Daphne, and what a WebSocket client saw on each side.

The sandbox side plays the script exactly as `run_script` does (check, send, settle after every op) but keeps the
events each op caused, so the Daphne side knows what to wait for after each op. The Daphne side plays the same ops
with a real WebSocket client (`websockets`) against `DaphneUnderTest`, one `python -m daphne` process that serves every
case of a session under /case/NAME/ (tests/fidelity/project/asgi.py), and reads Daphne's default-verbosity log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from playground.run.limits import run_limits
from playground.sandbox import Sandbox, SandboxPool
from playground.sandbox.shared import protocol
from playground.sandbox_supply import sandbox_options
from tests.conftest import ROOT, free_port, stop_process, wait_for_http

# Daphne's defaults (daphne/cli.py): the handshake must finish within 5 s (Autobahn's openHandshakeTimeout and
# Daphne's own websocket_connect_timeout), checked every 2 s by the server's timeout_checker.
DAPHNE_HANDSHAKE_TIMEOUT = 5.0
# Autobahn's timer drops the connection 4.4-5 s after the client started it; a consumer's own answer comes far sooner
# even on a loaded machine, so a handshake that took more than this long was ended by Daphne's timeout.
TIMED_OUT_AFTER = 0.6 * DAPHNE_HANDSHAKE_TIMEOUT
# How long the harness waits for what the sandbox saw after an op to arrive from Daphne, and for a handshake to end
# (one that Daphne times out ends after 5-7 s): outer bounds for a loaded machine, not expectations.
OP_WAIT_SECONDS = 20.0
HANDSHAKE_WAIT_SECONDS = 30.0
SETTLE_SECONDS = 2.0
SANDBOX_TIMEOUT_SECONDS = 60.0
SANDBOX_ORIGIN = "http://playground"  # the Origin the sandbox's clients send (playground/sandbox/inside/driver.py)
WAIT = "wait"  # the script-only op of run_script: {"type": "wait", "seconds": 0.5}

IMMEDIATE = "immediate"  # the handshake ended as soon as the consumer decided
AFTER_TIMEOUT = "after handshake timeout"  # Daphne ended it: the consumer never accepted nor refused
PENDING = "pending"  # nothing ended it (the sandbox has no handshake timeout)

HANDSHAKE_DROPPED = "handshake.dropped"
ABNORMAL_CLOSURE = 1006
CASE_SECONDS = 180.0  # one case's Daphne side, all waits included: an outer bound that turns a hang into a failure  # the TCP connection closed before any HTTP answer to the handshake


@dataclass(frozen=True)
class Case:
    """A consumer module (the text a learner puts in the playground) and the client script to drive it with."""

    name: str  # [a-z0-9_]+, unique in a session
    code: str
    script: tuple[dict[str, Any], ...]
    source: str = ""  # where it comes from, for messages: content/starters/echo.py, a question id


@dataclass
class Side:
    """What the clients saw on one side: each client's observations in order (accept, frames, close or refusal), how
    each handshake ended in time, the exception types the consumer raised, and the server's log."""

    name: str
    clients: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    timing: dict[str, str] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)
    load_error: str | None = None
    log: list[str] = field(default_factory=list)

    def observe(self, client: str, observation: dict[str, Any]) -> None:
        self.clients.setdefault(client, []).append(observation)

    def counts(self) -> dict[str, int]:
        return {client: len(seen) for client, seen in self.clients.items()}


@dataclass(frozen=True)
class Difference:
    """One way the sides differ: what one client saw (`seen`), when its handshake ended (`handshake`), the
    exceptions raised (`exceptions`) or whether the module loaded (`load`)."""

    aspect: str
    client: str | None
    sandbox: Any
    daphne: Any

    def __str__(self) -> str:
        who = f"{self.client} " if self.client else ""
        return f"{who}{self.aspect}: sandbox {self.sandbox}, daphne {self.daphne}"


@dataclass
class Result:
    case: Case
    sandbox: Side
    daphne: Side

    def differences(self) -> list[Difference]:
        """Each way the two sides differ (empty when the sandbox behaved as Daphne did)."""
        found = []
        if self.sandbox.load_error != self.daphne.load_error:
            found.append(Difference("load", None, self.sandbox.load_error, self.daphne.load_error))
        for client in sorted(set(self.sandbox.clients) | set(self.daphne.clients)):
            seen = masked(self.sandbox.clients.get(client, [])), masked(self.daphne.clients.get(client, []))
            if seen[0] != seen[1]:
                found.append(Difference("seen", client, *seen))
        for client in sorted(set(self.sandbox.timing) | set(self.daphne.timing)):
            timing = self.sandbox.timing.get(client), self.daphne.timing.get(client)
            if timing[0] != timing[1]:
                found.append(Difference("handshake", client, *timing))
        if sorted(self.sandbox.exceptions) != sorted(self.daphne.exceptions):
            found.append(Difference("exceptions", None, self.sandbox.exceptions, self.daphne.exceptions))
        return found


# Values that differ between any two runs, even two runs under Daphne, masked on both sides before comparing: the
# client's port, the process id, random channel names, clock readings and measured latencies.
VOLATILE = (
    (re.compile(r'"peer": \["127\.0\.0\.1", \d+\]'), '"peer": ["127.0.0.1", PORT]'),
    (re.compile(r'"tab": \d+'), '"tab": PORT'),
    (re.compile(r'"process": \d+'), '"process": PID'),
    (re.compile(r"specific\.\.inmemory![A-Za-z]+"), "specific..inmemory!RANDOM"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?"), "TIME"),
    (re.compile(r'"lag_ms": [\d.]+'), '"lag_ms": MS'),
)


def masked(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for observation in observations:
        if isinstance(observation.get("text"), str):
            text = observation["text"]
            for pattern, replacement in VOLATILE:
                text = pattern.sub(replacement, text)
            observation = {**observation, "text": text}
        result.append(observation)
    return result


def client_view(event: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a sandbox event a WebSocket client can see, in the form the Daphne side records it."""
    kind = event["type"]
    if kind == protocol.CONSUMER_ACCEPT:
        return {"type": kind, "subprotocol": event.get("subprotocol")}
    if kind == protocol.CONSUMER_SEND:
        return {"type": kind, "bytes": event["bytes"]} if "bytes" in event else {"type": kind, "text": event["text"]}
    if kind == protocol.CONSUMER_CLOSE:
        return {"type": kind, "code": event.get("code"), "by": event.get("by", "server")}
    if kind == protocol.CONSUMER_REJECT:
        return {"type": kind, "status": event.get("status")}
    return None


EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::|$)")


def exception_type(message: str) -> str:
    """'KeyError: 'x'' -> 'KeyError'; 'channels.exceptions.DenyConnection' -> 'DenyConnection'."""
    found = EXCEPTION_LINE.match(message.strip())
    return found["type"].rsplit(".", 1)[-1] if found else message.strip()[:60]


# -- the sandbox side --------------------------------------------------------------------------------------------


async def run_in_sandbox(case: Case, pool: SandboxPool | None = None) -> tuple[Side, list[dict[str, int]]]:
    """The sandbox's view, and after each op how many observations each client had (what Daphne must catch up to).
    A pool's warm sandbox saves a start; it is one as any run gets."""
    side = Side("sandbox")
    marks: list[dict[str, int]] = []
    sandbox = await pool.acquire() if pool is not None else await Sandbox.start(run_limits(), sandbox_options())

    def drain() -> None:
        for event in sandbox.queued():
            take(event)

    def take(event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == protocol.ERROR and event.get("source") == "sandbox" and event.get("traceback"):
            if event.get("method") is None and event.get("client") is None:
                side.load_error = exception_type(event.get("message", ""))
            else:
                side.exceptions.append(exception_type(event.get("message", "")))
        elif kind == protocol.OUTPUT:
            side.log.append(event.get("text", ""))
        elif (view := client_view(event)) is not None:
            side.observe(event["client"], view)
            if kind in (protocol.CONSUMER_ACCEPT, protocol.CONSUMER_REJECT):
                side.timing[event["client"]] = IMMEDIATE

    try:
        async with asyncio.timeout(SANDBOX_TIMEOUT_SECONDS):
            await sandbox.load(case.code, "consumer.py")
            await sandbox.settle(SETTLE_SECONDS)
            drain()
            for op in case.script:
                if sandbox.done:
                    break
                if op.get("type") == WAIT:
                    await sandbox.wait_done(float(op.get("seconds", 0)))
                elif problem := protocol.check_op(op, sandbox.limits.max_message_bytes):
                    raise ValueError(f"{case.source}: the script's op {op} is refused: {problem}")
                else:
                    await sandbox.send(op)
                    if op["type"] == protocol.CLIENT_CONNECT:
                        side.timing.setdefault(op["client"], PENDING)
                await sandbox.settle(SETTLE_SECONDS)
                drain()
                marks.append(side.counts())
    finally:
        await sandbox.stop("fidelity case finished")
        while (event := await sandbox.next_event()) is not None:
            if event["type"] == protocol.EXIT:
                if event.get("reason") == "error" and side.load_error is None:
                    side.load_error = exception_type(event.get("detail", ""))
            elif event["type"] != protocol.ERROR or event.get("source") != "host":
                take(event)
    marks.append(side.counts())  # everything, including what came after the last settle gave up waiting
    return side, marks


# -- the Daphne side ---------------------------------------------------------------------------------------------


class DaphneUnderTest:
    """`python -m daphne` at its default verbosity serving tests/fidelity/project/asgi.py on a free loopback port;
    cases are written to `cases_dir` and loaded through the control endpoint."""

    def __init__(self, work_dir: Path) -> None:
        self.cases_dir = work_dir / "cases"
        self.cases_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout_path, self.stderr_path = work_dir / "daphne.stdout", work_dir / "daphne.stderr"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "tests.fidelity.project.settings",
            "FIDELITY_CASES_DIR": str(self.cases_dir),
            "FIDELITY_DATABASE": str(work_dir / "fidelity.sqlite3"),
            "PYTHONUNBUFFERED": "1",
        }
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), APPLICATION],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.tokens = itertools.count(1)
        try:
            wait_for_http(f"{self.base}/__fidelity__/mark/", self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)

    def control(self, action: str, name: str = "", **query: str) -> tuple[int, str]:
        url = f"{self.base}/__fidelity__/{action}/{name}/?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=HANDSHAKE_WAIT_SECONDS + 30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def log_size(self) -> tuple[int, int]:
        return self.stdout_path.stat().st_size, self.stderr_path.stat().st_size

    def log_since(self, start: tuple[int, int], token: str) -> list[str]:
        """Both streams' lines written since `start`, up to the marker `token` the mark endpoint printed."""
        lines = []
        for path, offset in ((self.stdout_path, start[0]), (self.stderr_path, start[1])):
            with open(path, "rb") as stream:
                stream.seek(offset)
                text = stream.read().decode(errors="replace")
            marker = f"fidelity-mark {token}"
            if marker not in text:
                raise RuntimeError(f"the Daphne log has no marker {token}: {text[-2000:]}")
            lines += text.split(marker, 1)[0].splitlines()
        return lines

    async def run(self, case: Case, marks: list[dict[str, int]]) -> Side:
        """Play the case's script against Daphne with real WebSocket clients."""
        (self.cases_dir / f"{case.name}.py").write_text(case.code, encoding="utf-8")
        side = Side("daphne")
        status, body = await asyncio.to_thread(self.control, "load", case.name)
        if status != 200:
            side.load_error = exception_type(body)
            return side
        start = self.log_size()
        play = Play(self, case, side)
        try:
            async with asyncio.timeout(CASE_SECONDS):
                await play.run(marks)
        finally:
            await play.close_all()
        token = f"{case.name}-{next(self.tokens)}"
        await asyncio.to_thread(self.control, "mark", case.name, token=token)
        raw = self.log_since(start, token)
        side.log = normalise_log(raw, case.name)
        side.exceptions = logged_exceptions(raw)
        return side


APPLICATION = "tests.fidelity.project.asgi:application"


class Play:
    """One script's clients against Daphne."""

    def __init__(self, server: DaphneUnderTest, case: Case, side: Side) -> None:
        self.server = server
        self.case = case
        self.side = side
        self.sockets: dict[str, ClientConnection] = {}
        self.handshakes: dict[str, asyncio.Task[None]] = {}
        self.readers: dict[str, asyncio.Task[None]] = {}
        self.closing: dict[str, int | None] = {}  # client -> the code it closed with (None: the harness's own close)
        self.changed = asyncio.Event()
        self.played = 0  # ops played so far

    def observe(self, client: str, observation: dict[str, Any]) -> None:
        self.side.observe(client, observation)
        self.changed.set()

    async def run(self, marks: list[dict[str, int]]) -> None:
        """Each op, then wait for what the sandbox had seen after it; at the end, for the sandbox's totals."""
        per_op, final = marks[:-1], marks[-1]
        for number, op in enumerate(self.case.script):
            self.played = number + 1
            expected = per_op[number] if number < len(per_op) else final
            kind = op.get("type")
            if kind == WAIT:
                await asyncio.sleep(float(op.get("seconds", 0)))
            elif kind == protocol.CLIENT_CONNECT:
                self.closing.pop(op["client"], None)  # a client id may connect again after it closed
                self.handshakes[op["client"]] = asyncio.create_task(self.connect(op))
            elif kind == protocol.CLIENT_SEND:
                socket = self.sockets.get(op["client"])
                if socket is not None and op["client"] not in self.closing:
                    with contextlib.suppress(ConnectionClosed):
                        await socket.send(base64.b64decode(op["bytes"]) if "bytes" in op else op["text"])
            elif kind == protocol.CLIENT_CLOSE:
                handshake = self.handshakes.get(op["client"])
                if handshake is not None and not handshake.done():  # leaving mid-handshake drops the connection
                    await self.handshakes_reached_daphne()
                    handshake.cancel()
                    await asyncio.gather(handshake, return_exceptions=True)
                    self.side.timing[op["client"]] = PENDING  # nobody answered it: the client gave up first
                    self.observe(
                        op["client"], {"type": protocol.CONSUMER_CLOSE, "code": ABNORMAL_CLOSURE, "by": "client"}
                    )
                socket = self.sockets.get(op["client"])
                if socket is not None and op["client"] not in self.closing:
                    code = op.get("code", 1000)
                    self.closing[op["client"]] = code
                    if code == ABNORMAL_CLOSURE:
                        socket.transport.abort()  # 1006 is never sent: it names a connection lost without a close frame
                    else:
                        await socket.close(code)
                    await asyncio.wait({self.readers[op["client"]]}, timeout=OP_WAIT_SECONDS)  # its close is recorded
            else:
                raise ValueError(f"{self.case.source}: the fidelity harness cannot play {kind!r}")
            await self.catch_up(expected)
        await self.catch_up(final)
        if self.handshakes:
            await asyncio.wait(self.handshakes.values(), timeout=HANDSHAKE_WAIT_SECONDS)

    async def handshakes_reached_daphne(self) -> None:
        """Wait until Daphne's access log shows every handshake the script started (WSCONNECTING), or give up."""
        wanted = sum(op.get("type") == protocol.CLIENT_CONNECT for op in self.case.script[: self.played])
        line = f'"WSCONNECTING /case/{self.case.name}/'
        deadline = time.monotonic() + OP_WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.server.stdout_path.read_text(errors="replace").count(line) >= wanted:
                return
            await asyncio.sleep(0.05)  # polling the log file for a line, not waiting a fixed time

    async def catch_up(self, expected: dict[str, int]) -> None:
        """Wait until every client has seen as much as the sandbox's clients had after the same op (or give up)."""
        deadline = time.monotonic() + OP_WAIT_SECONDS
        while any(len(self.side.clients.get(c, [])) < n for c, n in expected.items()):
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def connect(self, op: dict[str, Any]) -> None:
        client = op["client"]
        headers = [(str(k), str(v)) for k, v in op.get("headers", [])]
        origin = next((v for k, v in headers if k.lower() == "origin"), SANDBOX_ORIGIN)
        headers = [(k, v) for k, v in headers if k.lower() != "origin"]
        user = op.get("user")
        if isinstance(user, dict) and user.get("username") and user.get("is_authenticated", True):
            _, key = await asyncio.to_thread(
                self.server.control,
                "login",
                username=str(user["username"]),
                id=str(user.get("id") or 0),
                is_staff="1" if user.get("is_staff") else "0",
            )
            headers.append(("Cookie", f"sessionid={key}"))
        query = f"?{op['query']}" if op.get("query") else ""
        url = f"ws://127.0.0.1:{self.server.port}/case/{self.case.name}{op.get('path', '/')}{query}"
        started = time.monotonic()
        try:
            socket = await connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=headers,
                subprotocols=op.get("subprotocols") or None,
                compression=None,
                open_timeout=HANDSHAKE_WAIT_SECONDS,
                ping_interval=None,
                close_timeout=OP_WAIT_SECONDS,
                user_agent_header=None,
            )
        except InvalidStatus as refused:
            self.timed(client, started, answered=True)
            self.observe(client, {"type": protocol.CONSUMER_REJECT, "status": refused.response.status_code})
            return
        except (InvalidMessage, OSError, EOFError):
            self.timed(client, started, answered=False)
            self.observe(client, {"type": HANDSHAKE_DROPPED})
            return
        self.timed(client, started, answered=True)
        self.sockets[client] = socket
        self.observe(client, {"type": protocol.CONSUMER_ACCEPT, "subprotocol": socket.subprotocol})
        self.readers[client] = asyncio.create_task(self.read(client, socket))

    def timed(self, client: str, started: float, *, answered: bool) -> None:
        """An accept or an HTTP refusal is the consumer's decision, however long a loaded machine took to deliver it;
        only a handshake dropped without an answer can have been ended by Daphne's timeout."""
        elapsed = time.monotonic() - started
        self.side.timing[client] = AFTER_TIMEOUT if not answered and elapsed >= TIMED_OUT_AFTER else IMMEDIATE

    async def read(self, client: str, socket: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in socket:
                if isinstance(message, bytes):
                    self.observe(client, {"type": protocol.CONSUMER_SEND, "bytes": base64.b64encode(message).decode()})
                else:
                    self.observe(client, {"type": protocol.CONSUMER_SEND, "text": message})
        if client in self.closing:
            code = self.closing[client]
            if code is not None:
                self.observe(client, {"type": protocol.CONSUMER_CLOSE, "code": code, "by": "client"})
            return
        received = socket.protocol.close_rcvd
        self.observe(
            client,
            {"type": protocol.CONSUMER_CLOSE, "code": received.code if received else 1006, "by": "server"},
        )

    async def close_all(self) -> None:
        """The harness's own goodbye: close what is still open, so the consumers' disconnect() runs before the mark."""
        for task in self.handshakes.values():
            if not task.done():
                task.cancel()
        for client, socket in self.sockets.items():
            if client not in self.closing and not self.readers[client].done():
                self.closing[client] = None
                with contextlib.suppress(ConnectionClosed):
                    await socket.close()
        tasks = [*self.readers.values(), *self.handshakes.values()]
        await asyncio.wait(tasks, timeout=OP_WAIT_SECONDS)
        for task in tasks:
            task.cancel()  # a socket the harness lost track of must not hang the case
        await asyncio.gather(*tasks, return_exceptions=True)


ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "(?P<what>[A-Z]+) (?P<path>\S*)" (?P<status>\S+) (?P<size>\S+)$')
TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<rest>.*)$")


def normalise_log(lines: list[str], case_name: str) -> list[str]:
    """Daphne's lines without timestamps, client ports and the harness's /case/NAME prefix."""
    prefix = f"/case/{case_name}"
    result = []
    for line in lines:
        if found := ACCESS_LINE.match(line):
            path = found["path"].removeprefix(prefix)
            result.append(f'"{found["what"]} {path}" {found["status"]} {found["size"]}'.strip())
        elif found := TIMESTAMPED.match(line):
            result.append(found["rest"].replace(prefix, ""))
        else:
            result.append(line.replace(prefix, ""))
    return result


def logged_exceptions(lines: list[str]) -> list[str]:
    """The exception type of each traceback in Daphne's log (the first unindented line after the frames)."""
    found: list[str] = []
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif line.startswith(("During handling of the above exception", "The above exception was the direct cause")):
            if found:
                found.pop()  # a chain: only the exception that escaped the application counts
        elif in_traceback and line and not line.startswith((" ", "\t")):
            found.append(exception_type(line))
            in_traceback = False
    return found


async def run_case(server: DaphneUnderTest, case: Case, pool: SandboxPool | None = None) -> Result:
    """Both sides of one case."""
    sandbox, marks = await run_in_sandbox(case, pool)
    daphne = await server.run(case, marks)
    return Result(case, sandbox, daphne)
