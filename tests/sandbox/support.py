"""Shared helpers for the sandbox and hostile suites: small limits, event filters, leak checks."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from playground.sandbox import Sandbox, SandboxLimits, run_script
from playground.sandbox.host import procs

CANARY_ENV = "CHANNELS_ACADEMY_TEST_CANARY"
# Small limits keep the suites fast on a 2-core machine.
FAST = SandboxLimits(
    cpu_seconds=1,
    run_cpu_seconds=3,
    lifetime_seconds=8,
    idle_seconds=8,
    max_events=2000,
    output_bytes_per_minute=200_000,
)

ECHO = """
from channels.generic.websocket import AsyncWebsocketConsumer

class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=text_data)
        else:
            await self.send(bytes_data=bytes_data)
"""


def of(events: list[dict[str, Any]], ev: str, **match: Any) -> list[dict[str, Any]]:
    """Events of one kind whose fields equal `match`."""
    return [e for e in events if e.get("type") == ev and all(e.get(k) == v for k, v in match.items())]


def traces(events: list[dict[str, Any]], kind: str | None = None) -> list[dict[str, Any]]:
    """Trace events, optionally of one kind."""
    return [e for e in events if e.get("type") == "trace" and (kind is None or e["kind"] == kind)]


def output(events: list[dict[str, Any]], stream: str | None = None) -> str:
    """All learner output text, in order."""
    return "".join(e["text"] for e in events if e.get("type") == "output" and (stream is None or e["stream"] == stream))


def final(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The exit event (always last)."""
    assert events and events[-1]["type"] == "exit", events[-3:]
    return events[-1]


def connect(client: str = "c1", path: str = "/ws/", **extra: Any) -> dict[str, Any]:
    """A connect op."""
    return {"type": "client.connect", "client": client, "path": path, **extra}


def text(client: str, body: str) -> dict[str, Any]:
    """A receive op carrying text."""
    return {"type": "client.send", "client": client, "text": body}


def close(client: str, code: int = 1000) -> dict[str, Any]:
    """A disconnect op."""
    return {"type": "client.close", "client": client, "code": code}


def assert_run_left_nothing(pid: int, uid: int | None) -> None:
    """No process of the run remains: not the launcher, nothing under it, nothing with its uid."""
    table = procs.scan()
    assert procs.tree(table, pid) == [], f"processes of the run remain: {procs.tree(table, pid)}"
    if uid is not None:
        assert procs.pids_of_uid(uid) == [], f"processes with uid {uid} remain"


def assert_no_canary(events: list[dict[str, Any]]) -> None:
    """The secret planted in the server's environment never shows up in anything the run produced."""
    canary = os.environ.get(CANARY_ENV)
    assert canary, "the canary fixture must run first"
    assert canary not in json.dumps(events)


async def run_checked(
    code: str, ops: list[dict[str, Any]] | None = None, limits: SandboxLimits = FAST, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """run_script plus the leak and canary checks every hostile case needs."""
    sandbox = await Sandbox.start(limits)
    pid, uid = sandbox.pid, sandbox.uid
    events = await run_script(code, ops or [], limits, timeout, sandbox=sandbox)
    assert_run_left_nothing(pid, uid)
    assert_no_canary(events)
    return events


class Bystander:
    """An echo sandbox with one open client that must keep answering while hostile runs go on."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.events: list[dict[str, Any]] = []
        self.count = 0
        self.collector = asyncio.get_running_loop().create_task(self._collect())

    async def _collect(self) -> None:
        async for event in self.sandbox.events():
            self.events.append(event)

    async def round_trip(self, timeout: float = 15.0) -> float:
        """Send one message and wait for its echo; returns seconds taken."""
        self.count += 1
        body = f"ping-{self.count}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await self.sandbox.send(text("b1", body)), "the bystander refused an op"
        while loop.time() - started < timeout:
            if of(self.events, "consumer.send", client="b1", text=body):
                return loop.time() - started
            assert not self.sandbox.done, f"the bystander died: {self.events[-3:]}"
            await asyncio.sleep(0.01)
        raise AssertionError(f"bystander did not echo within {timeout}s")
