"""The host side of one run: start or adopt a sandbox, feed it ops, police its events and limits, end it cleanly."""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from ..shared import protocol
from ..shared.limits import SandboxLimits
from .launch import Launched, SandboxStartError, describe_exit, kill, launch
from .monitor import cpu_monitor
from .options import SandboxOptions

QUEUE_EVENTS = 256
MAX_PENDING_OP_BYTES = 4 * 1024 * 1024  # ops the sandbox has not read yet; beyond this new ops are refused
OUTPUT_CHUNK = 4096
PAUSED_CLOCK_CHECK_SECONDS = 1.0  # while paused the clock watcher wakes this often to notice pause going off
_sync_ids = itertools.count(1)

__all__ = ["Sandbox", "SandboxStartError"]


class Sandbox:
    """One single-use sandbox. `await Sandbox.start()`, `await load(code)`, `await send(op)`, iterate `events()`,
    `await stop()`. The event stream always ends with exactly one `{"type": "exit", ...}`."""

    def __init__(self, launched: Launched, limits: SandboxLimits, options: SandboxOptions) -> None:
        self.limits = limits
        self.options = options
        self._launched = launched
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_EVENTS)
        self._final: collections.deque[dict[str, Any]] = collections.deque()
        self._finished = asyncio.Event()
        self._finish_task: asyncio.Task[None] | None = None
        self._clients: dict[str, str] = {}  # client id -> "connecting" | "open" | "closed"
        self._known_clients: set[str] = set()
        self._syncs: dict[str, asyncio.Future[bool]] = {}
        self._delivered = 0
        self._output: collections.deque[tuple[float, int]] = collections.deque()
        self._output_total = 0
        self._sandbox_limit: str | None = None
        self._sandbox_limit_detail = ""  # what the harness said about the limit it reported (e.g. the line running)
        self._loaded_at: float | None = None
        self._last_activity = time.monotonic()
        self._paused = False
        self._busiest_cpu = 0.0
        self._exit: dict[str, Any] | None = None
        self._finishing_reason: str | None = None
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_events(), name="sandbox-events"),
            loop.create_task(self._read_output("stdout"), name="sandbox-stdout"),
            loop.create_task(self._read_output("stderr"), name="sandbox-stderr"),
        ]
        self._waiter = loop.create_task(self._wait_exit(), name="sandbox-wait")
        self._watchdog: asyncio.Task[None] | None = None
        development = options.mode == "development"
        cpu_monitor().watch(self, launched.process.pid, development, self._cpu_sample)

    # -- public API -------------------------------------------------------------------------
    @classmethod
    async def start(cls, limits: SandboxLimits | None = None, options: SandboxOptions | None = None) -> Sandbox:
        """Start a cold sandbox and wait until it is ready for code (raises SandboxStartError)."""
        limits, options = limits or SandboxLimits(), options or SandboxOptions()
        return cls(await launch(limits, options), limits, options)

    @property
    def pid(self) -> int:
        """Host pid of the launcher process (bwrap, or the harness in development mode)."""
        return self._launched.process.pid

    @property
    def uid(self) -> int | None:
        """The run's own uid in root mode (None otherwise)."""
        return self._launched.slot.uid if self._launched.slot else None

    @property
    def loaded(self) -> bool:
        """True once load() was called (a sandbox runs one learner module, once)."""
        return self._loaded_at is not None

    @property
    def done(self) -> bool:
        """True once the run is ending or has ended; no more ops are accepted."""
        return self._finish_task is not None

    @property
    def exit_event(self) -> dict[str, Any] | None:
        """The final event, once the sandbox is gone."""
        return self._exit

    async def load(self, code: str, filename: str = "consumer.py") -> bool:
        """Send the learner's module; the stream then shows `loaded` or an `error` and `exit`. Starts the clocks."""
        if self.loaded or self.done:
            raise RuntimeError("a sandbox runs one module once; start or acquire another")
        self._loaded_at = self._last_activity = time.monotonic()
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_clocks(), name="sandbox-clocks")
        size = len(code.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_code_bytes:
            await self.refuse(
                None,
                f"the code is {size} bytes; the playground accepts at most {self.limits.max_code_bytes}",
                "code_size",
            )
            self.finish("limit", what="code_size", detail="code too large")
            return False
        return self._write({"type": protocol.LOAD, "code": code, "filename": str(filename)[:64]})

    async def send(self, op: dict[str, Any]) -> bool:
        """Forward one client op, pause/step, or stop. Callers pass ops that `protocol.check_op` accepted (the page
        socket and run_script check them); here only the run's state can refuse one, as an `error` event."""
        kind = op["type"]
        if kind == protocol.STOP:
            await self.stop("stopped")
            return True
        if self.done or not self.loaded:
            return False
        if kind in protocol.CONTROL_OPS:
            if kind == protocol.STEP and not self._paused:
                await self.refuse(None, "step only works while pause is on")
                return False
            self._paused = op["on"] if kind == protocol.PAUSE else self._paused
            self._last_activity = time.monotonic()
            return self._write(protocol.clean_op(op))
        client = op["client"]
        state = self._clients.get(client)
        if kind == protocol.CLIENT_CONNECT:
            if state in ("connecting", "open"):
                await self.refuse(client, f"{client} is already connected")
                return False
            active = sum(1 for s in self._clients.values() if s != "closed")
            if active >= self.limits.max_clients:
                await self.refuse(
                    client, f"at most {self.limits.max_clients} clients may be connected at once", "clients"
                )
                return False
            self._clients[client] = "connecting"
            self._known_clients.add(client)
        elif state != "open" and not (kind == protocol.CLIENT_CLOSE and state == "connecting"):
            await self.refuse(client, f"{client} is not connected")
            return False
        self._last_activity = time.monotonic()
        return self._write(protocol.clean_op(op))

    @property
    def paused(self) -> bool:
        """True while pause is on: every Channels call waits for a `step` (the idle clock is suspended)."""
        return self._paused

    async def settle(self, timeout: float = 1.0) -> bool:
        """Wait until the consumers have handled everything sent so far (True), or `timeout` passed (False)."""
        if self.done or not self.loaded:
            return False
        sync_id = str(next(_sync_ids))
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._syncs[sync_id] = future
        if not self._write({"type": protocol.SYNC, "id": sync_id, "timeout": timeout}):
            self._syncs.pop(sync_id, None)
            return False
        finished: asyncio.Future[bool] = asyncio.ensure_future(self._finished.wait())
        try:
            await asyncio.wait({future, finished}, timeout=timeout + 2, return_when=asyncio.FIRST_COMPLETED)
        finally:
            finished.cancel()
            self._syncs.pop(sync_id, None)
        return future.done() and not future.cancelled() and future.result()

    async def next_event(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event; None after `exit` has been returned (or on timeout)."""
        while True:
            with contextlib.suppress(asyncio.QueueEmpty):
                return self._queue.get_nowait()
            if self._finished.is_set():
                return self._final.popleft() if self._final else None
            getter = asyncio.ensure_future(self._queue.get())
            finished = asyncio.ensure_future(self._finished.wait())
            done, _ = await asyncio.wait({getter, finished}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            if getter in done:
                return getter.result()
            getter.cancel()
            if not done:
                return None

    def queued(self) -> list[dict[str, Any]]:
        """The events queued now, without waiting: after settle(), everything the consumers did before it."""
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event in order, ending with `exit`."""
        while (event := await self.next_event()) is not None:
            yield event

    async def stop(self, reason: str = "stopped") -> None:
        """End the run now (idempotent): kill every process of it, reap, free its uid, emit `exit`."""
        self.finish("stopped", detail=reason)
        await self.wait_closed()

    async def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended (limit, crash, error, stop) or `timeout`; True when it has."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), timeout)
        return self._finished.is_set()

    async def wait_closed(self) -> None:
        """Wait until the sandbox is gone and `exit` is queued."""
        if self._finish_task is None:
            await self._waiter
        assert self._finish_task is not None
        await asyncio.shield(self._finish_task)

    def finish(self, reason: str, *, what: str | None = None, detail: str = "", code: int | None = None) -> None:
        """Begin ending the run for `reason` (the first reason wins); the work happens in a task."""
        if self._finish_task is None:
            self._finishing_reason = reason if reason != "limit" else what
            self._finish_task = asyncio.get_running_loop().create_task(self._finish(reason, what, detail, code))

    # -- internals --------------------------------------------------------------------------
    def _write(self, op: dict[str, Any]) -> bool:
        writer = self._launched.op_writer
        if writer.is_closing():
            return False
        if writer.transport.get_write_buffer_size() > MAX_PENDING_OP_BYTES:
            self.finish(
                "limit", what="time", detail="the sandbox stopped reading operations (is its event loop blocked?)"
            )
            return False
        writer.write((json.dumps(op, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii"))
        return True

    async def refuse(self, client: str | None, message: str, limit: str | None = None) -> None:
        """Queue an error about a refused op without ever waiting (a reader that stopped reading loses it)."""
        event: dict[str, Any] = {"type": protocol.ERROR, "client": client, "message": message, "source": "host"}
        if limit:
            event["limit"] = limit
        self._delivered += 1
        if self._delivered > self.limits.max_events:
            self.finish("limit", what="events", detail=f"the run produced more than {self.limits.max_events} events")
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(event)

    async def _deliver(self, event: dict[str, Any]) -> None:
        if self._finishing_reason == "protocol" or (
            event["type"] == protocol.OUTPUT and self._finishing_reason == "output"
        ):
            return  # after a violation nothing more from the sandbox is trusted; after a flood no more output
        self._delivered += 1
        if self._delivered > self.limits.max_events:
            self.finish("limit", what="events", detail=f"the run produced more than {self.limits.max_events} events")
            return
        await self._queue.put(event)

    async def _read_events(self) -> None:
        reader = self._launched.events
        while True:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                self.finish("protocol", detail="the sandbox wrote an event line longer than allowed")
                return
            if not line:
                # A sandbox that closes its event stream but keeps running is not speaking the protocol.
                await asyncio.wait({self._waiter}, timeout=1.0)
                if not self._waiter.done():
                    self.finish("protocol", detail="the sandbox closed its event stream")
                return
            if self._finishing_reason == "protocol":
                return
            try:
                event = protocol.sanitize_event(json.loads(line), self._known_clients)
            except ValueError as exc:  # includes ProtocolViolation and JSON errors
                self.finish("protocol", detail=f"invalid event from the sandbox: {str(exc)[:200]}")
                return
            await self._on_event(event)

    async def _on_event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == protocol.READY:
            self.finish("protocol", detail="a second ready event")
            return
        if kind == protocol.SYNCED:
            future = self._syncs.get(event["id"])
            if future is not None and not future.done():
                future.set_result(event["idle"])
            return
        if kind == protocol.LIMIT:
            self._sandbox_limit = event["what"]
            self._sandbox_limit_detail = event.get("detail") or ""
            return  # reported by _finish together with `exit`, once
        if kind == protocol.CONSUMER_ACCEPT:
            self._clients[event["client"]] = "open"
        elif kind in (protocol.CONSUMER_CLOSE, protocol.CONSUMER_REJECT, protocol.CONSUMER_DROP):
            self._clients[event["client"]] = "closed"
        elif kind == protocol.ERROR:
            event["source"] = "sandbox"
        await self._deliver(event)

    async def _read_output(self, name: str) -> None:
        stream = getattr(self._launched.process, name)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            data = await stream.read(OUTPUT_CHUNK)
            if not data:
                tail = decoder.decode(b"", final=True)
                if tail:
                    await self._deliver({"type": protocol.OUTPUT, "stream": name, "text": tail})
                return
            now = time.monotonic()
            self._output.append((now, len(data)))
            self._output_total += len(data)
            while self._output and self._output[0][0] < now - 60:
                self._output_total -= self._output.popleft()[1]
            if self._output_total > self.limits.output_bytes_per_minute:
                self.finish(
                    "limit",
                    what="output",
                    detail=f"more than {self.limits.output_bytes_per_minute} bytes of output in a minute",
                )
                return
            text = decoder.decode(data)
            if text:
                await self._deliver({"type": protocol.OUTPUT, "stream": name, "text": text})

    async def _wait_exit(self) -> None:
        code = await self._launched.process.wait()
        if self._finish_task is None:
            busiest_hit_limit = self._busiest_cpu >= self.limits.cpu_seconds - 0.75
            reason, what, detail = describe_exit(code, self._sandbox_limit, busiest_hit_limit, self.limits.cpu_seconds)
            detail = self._sandbox_limit_detail if reason == "limit" and self._sandbox_limit_detail else detail
            self.finish(reason, what=what, detail=detail, code=128 - code if code < 0 else code)

    def _cpu_sample(self, total: float, busiest: float) -> None:
        self._busiest_cpu = max(self._busiest_cpu, busiest)
        if total >= self.limits.run_cpu_seconds:
            self.finish("limit", what="cpu", detail=f"the run used more than {self.limits.run_cpu_seconds} s of CPU")

    async def _watch_clocks(self) -> None:
        assert self._loaded_at is not None
        while self._finish_task is None:
            now = time.monotonic()
            lifetime_left = self._loaded_at + self.limits.lifetime_seconds - now
            idle_left = self._last_activity + self.limits.idle_seconds - now
            if self._paused:  # the learner is reading a paused step: only the lifetime applies
                idle_left = PAUSED_CLOCK_CHECK_SECONDS
            if lifetime_left <= 0:
                self.finish(
                    "limit", what="time", detail=f"the run reached its {self.limits.lifetime_seconds:g} s lifetime"
                )
            elif idle_left <= 0:
                self.finish("limit", what="idle", detail=f"no client activity for {self.limits.idle_seconds:g} s")
            else:
                await asyncio.sleep(min(lifetime_left, idle_left) + 0.01)

    async def _finish(self, reason: str, what: str | None, detail: str, code: int | None) -> None:
        cpu_monitor().unwatch(self)
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        kill_error = None
        try:
            await kill(self._launched)
        except SandboxStartError as exc:
            kill_error = str(exc)
        if code is None:
            code = self._launched.process.returncode
        if code is not None and code < 0:
            code = 128 - code  # asyncio reports death by signal N as -N; shells and bwrap say 128+N
        # Let the readers hand over what the sandbox wrote before it died (bounded: nobody may be reading).
        _, pending = await asyncio.wait(self._tasks, timeout=1.0)
        for task in pending:
            task.cancel()
        transport = getattr(self._launched.process, "_transport", None)
        if transport is not None:
            transport.close()  # a flood may have paused the pipes before EOF; do not leave them to the GC
        for future in self._syncs.values():
            if not future.done():
                future.set_result(False)
        if reason == "limit":
            self._final.append({"type": protocol.LIMIT, "what": what or "unknown", "detail": detail})
        exit_event: dict[str, Any] = {"type": protocol.EXIT, "reason": reason, "detail": detail, "code": code}
        if what:
            exit_event["what"] = what
        if kill_error:
            exit_event["cleanup"] = kill_error
        self._exit = exit_event
        self._final.append(exit_event)
        self._finished.set()
