"""Grades learner code against a challenge's test scripts, in the host process.

Trust boundary: the learner's module runs in a playground sandbox, one fresh sandbox per test, and sees only the
client traffic of that test (never a script, never another test). This process drives the clients and compares what
the consumer did, as the host's sanitized events (`protocol.sanitize_event`), with the script. The learner's output
is ignored and no frame can carry a verdict: only a frame that matches the expectation passes it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from challenges.matching import describe, frame_matches
from challenges.scripts import DEFAULT_WITHIN_SECONDS, connect_op
from challenges.types import ACTIONS, Step, TestScript
from playground.sandbox import Sandbox
from playground.sandbox.shared import protocol

Acquire = Callable[[], Awaitable[Sandbox]]
# A module not loaded by then fails the test (the sandbox's start_timeout_seconds bounds getting to `ready` the same way);
# CHALLENGE_TEST_SECONDS bounds the whole test as well.
LOAD_SECONDS = 10.0
FRAME_KINDS = {
    protocol.CONSUMER_ACCEPT: "accept",
    protocol.CONSUMER_SEND: "send",
    protocol.CONSUMER_CLOSE: "close",
    protocol.CONSUMER_REJECT: "reject",
}
EXPECTED_TYPE = {
    "accepted": protocol.CONSUMER_ACCEPT,
    "receive": protocol.CONSUMER_SEND,
    "closed": protocol.CONSUMER_CLOSE,
    "rejected": protocol.CONSUMER_REJECT,
}


@dataclass
class TestResult:
    """One test's verdict; `events` is the whole run (trace rows included) and `first_wrong` an index into it."""

    __test__ = False  # not a pytest class

    name: str
    hidden: bool
    passed: bool
    reason: str
    expected: dict[str, Any] | None
    got: dict[str, Any] | None
    seconds: float
    first_wrong: int | None
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def public(self) -> dict[str, Any]:
        """What the learner may see: a hidden test gives its name, verdict and reason, never its frames."""
        shown: dict[str, Any] = {"test": self.name, "hidden": self.hidden, "passed": self.passed, "reason": self.reason}
        if not self.hidden:
            shown.update(expected=self.expected, got=self.got)
        shown.update(seconds=round(self.seconds, 3), first_wrong=self.first_wrong)
        return shown


class TestFailed(Exception):
    """The script stopped at a step that did not happen as expected."""

    __test__ = False  # not a pytest class

    def __init__(self, reason: str, expected: dict[str, Any] | None, got: dict[str, Any] | None, index: int) -> None:
        super().__init__(reason)
        self.reason, self.expected, self.got, self.index = reason, expected, got, index


def frame(event: dict[str, Any]) -> dict[str, Any]:
    """A consumer event as a frame a learner reads: client, kind and its content."""
    shown: dict[str, Any] = {"client": event["client"], "kind": FRAME_KINDS[event["type"]]}
    for key in ("text", "bytes", "subprotocol", "code", "status"):
        if key in event:
            shown[key] = event[key]
    return shown


class ScriptRun:
    """Plays one test script against one loaded sandbox, watching its events as they arrive."""

    def __init__(self, sandbox: Sandbox, test: TestScript) -> None:
        self.sandbox, self.test = sandbox, test
        self.events: list[dict[str, Any]] = []
        self.frames: dict[str, list[int]] = collections.defaultdict(list)  # client -> indices into events
        self.cursor: collections.Counter[str] = collections.Counter()  # client -> frames already matched
        self.last_match = -1  # index of the frame the previous expectation matched
        self.changed = asyncio.Event()

    async def collect(self) -> None:
        async for event in self.sandbox.events():
            self.events.append(event)
            kind = event["type"]
            if kind in FRAME_KINDS and not (kind == protocol.CONSUMER_CLOSE and event.get("by") == "client"):
                self.frames[event["client"]].append(len(self.events) - 1)
            self.changed.set()

    def ended(self) -> dict[str, Any] | None:
        return self.events[-1] if self.events and self.events[-1]["type"] == protocol.EXIT else None

    async def wait_until(self, ready: Callable[[], bool], seconds: float) -> bool:
        """Wait for `ready()` (re-checked at each event) for at most `seconds`, or until the run ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            self.changed.clear()
            if ready() or self.ended() or loop.time() >= deadline:
                return ready()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), deadline - loop.time())

    def fail(self, number: int, step: Step | None, what: str, got: dict[str, Any] | None, index: int) -> TestFailed:
        where = f"step {number}" if self.test.hidden or step is None else f"step {number} (line {step.line})"
        exit_event = self.ended()
        if exit_event and exit_event["reason"] != "stopped":
            what += f"; the run ended: {ended_reason(self.events)}"
        elif error := self.learner_error():
            what += f"; your consumer raised {error}"
        expected = describe(step) if step is not None and step.kind not in ACTIONS else None
        return TestFailed(f"{where}: {what}", expected, got, index)

    def learner_error(self) -> str | None:
        """The first exception the learner's code raised, as type (or the whole message) and line."""
        for event in self.events:
            if event["type"] == protocol.ERROR and event.get("source") == "sandbox":
                message = str(event.get("message", ""))
                shown = message.split(":", 1)[0] if self.test.hidden else message  # a message may quote hidden input
                return shown + (f" on line {event['line']}" if event.get("line") else "")
        return None

    async def load(self, code: str) -> None:
        await self.sandbox.load(code)
        loaded = await self.wait_until(lambda: any(e["type"] == protocol.LOADED for e in self.events), LOAD_SECONDS)
        if not loaded:
            error = self.learner_error()
            why = ended_reason(self.events) if self.ended() else f"your module did not load within {LOAD_SECONDS:g} s"
            raise TestFailed(f"your module did not load: {error}" if error else why, None, None, len(self.events))

    async def play(self) -> None:
        for number, step in enumerate(self.test.steps, 1):
            if step.kind in ACTIONS:
                await self.act(number, step)
            elif step.kind == "silent":
                await self.expect_silence(number, step)
            else:
                await self.expect_frame(number, step)
        exit_event = self.ended()
        if exit_event and exit_event["reason"] != "stopped":
            raise self.fail(len(self.test.steps), None, "the run ended early", None, len(self.events) - 1)

    async def act(self, number: int, step: Step) -> None:
        if step.kind == "connect":
            op = connect_op(step)
        elif step.kind == "close":
            op = {"type": protocol.CLIENT_CLOSE, "client": step.client, "code": step.get("code", 1000)}
        else:
            op = {"type": protocol.CLIENT_SEND, "client": step.client}
            if "json" in step.fields:
                op["text"] = json.dumps(step.get("json"), separators=(",", ":"))
            else:
                op.update({key: step.get(key) for key in ("text", "bytes") if key in step.fields})
        problem = protocol.check_op(op, self.sandbox.limits.max_message_bytes)
        if problem or not await self.sandbox.send(op):
            why = problem or f"{step.client} is not open (not accepted yet, or already closed)"
            raise self.fail(number, step, f"could not {step.kind} {step.client}: {why}", None, len(self.events))

    async def expect_frame(self, number: int, step: Step) -> None:
        client, within = step.client, float(step.get("within", DEFAULT_WITHIN_SECONDS))
        if not await self.wait_until(lambda: len(self.frames[client]) > self.cursor[client], within):
            what = f"expected {describe(step)['kind']} for {client}, got nothing within {within:g} s"
            raise self.fail(number, step, what, None, len(self.events))
        index = self.frames[client][self.cursor[client]]
        self.cursor[client] += 1
        event = self.events[index]
        got = frame(event)
        if event["type"] != EXPECTED_TYPE[step.kind]:
            detail = (
                f" (code {got['code']})" if "code" in got else f" (status {got['status']})" if "status" in got else ""
            )
            what = f"expected {describe(step)['kind']} for {client}, got {got['kind']}{detail}"
            raise self.fail(number, step, what, got, index)
        if not self.matches(step, event):
            raise self.fail(number, step, f"{client} got a {got['kind']} that does not match", got, index)
        if step.get("ordered") and index < self.last_match:
            what = f"{client}'s frame arrived before the frame the previous step expected (wrong order)"
            raise self.fail(number, step, what, got, index)
        self.last_match = index

    @staticmethod
    def matches(step: Step, event: dict[str, Any]) -> bool:
        if step.kind == "receive":
            return frame_matches(step, event)
        if step.kind == "accepted" and "subprotocol" in step.fields:
            return bool(event.get("subprotocol") == step.get("subprotocol"))
        if step.kind == "closed" and "code" in step.fields:
            return bool(event.get("code") == step.get("code"))
        return True

    async def expect_silence(self, number: int, step: Step) -> None:
        client = step.client
        if await self.wait_until(lambda: len(self.frames[client]) > self.cursor[client], float(step.get("seconds"))):
            index = self.frames[client][self.cursor[client]]
            what = f"expected nothing for {client} for {step.get('seconds'):g} s, got a {FRAME_KINDS[self.events[index]['type']]}"
            raise self.fail(number, step, what, frame(self.events[index]), index)


def ended_reason(events: Sequence[dict[str, Any]]) -> str:
    """Why a run ended early, from its `exit` event: a limit with its detail, a load error, a crash."""
    final = events[-1]
    if final["reason"] == "limit":
        return f"it hit the sandbox's {final.get('what')} limit ({final.get('detail')})"
    if final["reason"] == "error":
        return f"your module did not load ({final.get('detail')})"
    return f"{final['reason']} ({final.get('detail')})"


async def run_test(
    test: TestScript,
    code: str,
    acquire: Acquire,
    test_seconds: float,
    stopping: list[asyncio.Task[None]],
    turn: asyncio.Semaphore | None = None,
) -> TestResult:
    """One test in a fresh sandbox: load the module, then (holding `turn`, the tests that play at once) play the script;
    any failure is a failed test with its reason. The test's time is loading and playing: neither getting a sandbox
    nor waiting for the turn counts in it or against `test_seconds`. The sandbox's stop is appended to `stopping` (the verdict is known before the sandbox is gone)."""
    try:
        sandbox = await acquire()
    except Exception as exc:  # noqa: BLE001 - no sandbox (full, switched off, failed to start) fails the test, with why
        return TestResult(test.name, test.hidden, False, f"no sandbox for this test: {exc}", None, None, 0.0, None)
    started = time.monotonic()
    run = ScriptRun(sandbox, test)
    loop = asyncio.get_running_loop()
    collector = loop.create_task(run.collect())
    passed, reason, expected, got, first_wrong = True, "passed", None, None, None
    waited, holding = 0.0, False
    try:
        async with asyncio.timeout(test_seconds) as budget:
            await run.load(code)
            if turn is not None:
                deadline = budget.when()
                assert deadline is not None
                budget.reschedule(None)  # waiting for a turn is not the learner's time
                queued = loop.time()
                await turn.acquire()
                holding, waited = True, loop.time() - queued
                budget.reschedule(deadline + waited)
            await run.play()
    except TestFailed as failure:
        passed, reason, expected, got, first_wrong = False, failure.reason, failure.expected, failure.got, failure.index
    except TimeoutError:
        passed, reason, first_wrong = False, f"the test did not finish within {test_seconds:g} s", len(run.events)
    finally:
        if holding:
            assert turn is not None
            turn.release()
        stopping.append(loop.create_task(stop(sandbox, collector)))
    seconds = time.monotonic() - started - waited
    return TestResult(test.name, test.hidden, passed, reason, expected, got, seconds, first_wrong, run.events)


async def stop(sandbox: Sandbox, collector: asyncio.Task[None]) -> None:
    """Kill the test's sandbox and let the collector take its last events, ending with `exit`."""
    await sandbox.stop("test finished")
    with contextlib.suppress(asyncio.CancelledError):
        await collector


async def grade(
    tests: Sequence[TestScript],
    code: str,
    acquire: Acquire,
    *,
    parallel: int = 2,
    test_seconds: float = 10.0,
    ahead: int | None = None,
) -> list[TestResult]:
    """Every test, `parallel` playing at a time, results in the tests' order once every sandbox is gone. Up to `ahead`
    more tests (default: `parallel`) take their sandbox and load the module while others play, so a test's turn starts
    with its module loaded; a test's sandbox stops while the next test runs (the kill and reap need no slot)."""
    turn = asyncio.Semaphore(max(1, parallel))
    loaded = asyncio.Semaphore(max(1, parallel) + max(0, parallel if ahead is None else ahead))
    stopping: list[asyncio.Task[None]] = []

    async def one(test: TestScript) -> TestResult:
        async with loaded:
            return await run_test(test, code, acquire, test_seconds, stopping, turn)

    try:
        outcomes = await asyncio.gather(*(one(test) for test in tests), return_exceptions=True)
    finally:
        await asyncio.gather(*stopping)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if isinstance(outcome, TestResult)]
