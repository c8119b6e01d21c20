"""Inside the sandbox: writes protocol events and builds trace events (the visualizer's data) in plain words."""

from __future__ import annotations

import contextvars
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

from ..shared import protocol

# The harness's own code (this package and `shared`): never shown as the learner's frames.
HARNESS_DIRS = frozenset(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name) for name in ("inside", "shared")
)

# Which client's consumer is running, and which of its methods (set by the driver around each dispatch).
CURRENT_CLIENT: contextvars.ContextVar[Any] = contextvars.ContextVar("playground_client", default=None)
CURRENT_METHOD: contextvars.ContextVar[str | None] = contextvars.ContextVar("playground_method", default=None)
# Channels' own instance attributes: shown separately (channel_name) or not at all.
CHANNELS_INTERNALS = frozenset(
    {"scope", "channel_layer", "channel_name", "channel_receive", "base_send", "channel_layer_alias", "groups"}
)
MAX_OUTPUT_TRACES = 200


def clip(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def safe_repr(value: Any, limit: int = protocol.MAX_VAR_CHARS) -> str:
    """repr() that never raises and never grows past `limit` (learner __repr__ is untrusted)."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - any learner failure becomes a placeholder
        text = f"<repr failed: {type(exc).__name__}>"
    if not isinstance(text, str):
        text = "<repr returned a non-string>"
    return clip(text, limit)


class Emitter:
    """Serialises events onto the protocol descriptor, one JSON line each, from any thread."""

    def __init__(self, fd: int, max_events: int) -> None:
        self.fd = fd
        self.max_events = max_events
        self.count = 0
        self.lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        """Write one event; past the event cap, say so and end the run."""
        line = (json.dumps(event, ensure_ascii=True, separators=(",", ":"), default=str) + "\n").encode("ascii")
        with self.lock:
            self.count += 1
            if self.count > self.max_events:
                self._write(b'{"type":"limit","what":"events","detail":"the run produced too many events"}\n')
                os._exit(protocol.EXIT_LIMIT)
            self._write(line)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BrokenPipeError:
                os._exit(0)  # the host is gone; nothing left to do
            view = view[written:]

    def limit(self, what: str, detail: str) -> NoReturn:
        """Report a limit the harness detected itself (e.g. memory) and end the run."""
        try:
            self.emit({"type": protocol.LIMIT, "what": what, "detail": detail})
        finally:
            os._exit(protocol.EXIT_LIMIT)


class Tracer:
    """Builds self-contained trace events; knows the learner's file so it can find the learner's line."""

    def __init__(self, emitter: Emitter, filename: str, t0: float | None = None) -> None:
        self.emitter = emitter
        self.filename = filename
        self.t0 = time.monotonic() if t0 is None else t0
        self.step = 0
        self.output_traces = 0
        self.lock = threading.Lock()

    # -- where is the learner's code right now -------------------------------------------------
    def learner_frame(self) -> FrameType | None:
        """Innermost frame of the learner's file: this thread first, then the thread running a sync consumer."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame
            frame = frame.f_back
        current = threading.get_ident()
        for ident, frame in sys._current_frames().items():
            if ident == current:
                continue
            while frame is not None:
                if frame.f_code.co_filename == self.filename:
                    return frame
                frame = frame.f_back
        return None

    def learner_line(self) -> int | None:
        """Line number of the learner's code currently running, if any."""
        frame = self.learner_frame()
        return frame.f_lineno if frame is not None else None

    def learner_method(self) -> str | None:
        """Name of the learner function currently running, if any."""
        frame = self.learner_frame()
        return frame.f_code.co_name if frame is not None else None

    # -- the visible state of one client's consumer -----------------------------------------
    def describe_vars(self, client: Any) -> dict[str, str]:
        """channel_name, path, url_route kwargs, then the consumer's own attributes in first-seen order."""
        if client is None:
            return {}
        shown: dict[str, str] = {}
        if client.channel_name:
            shown["channel_name"] = safe_repr(client.channel_name)
        shown["path"] = safe_repr(client.path)
        for key, value in list(client.kwargs.items())[:4]:
            shown[f"url_route.kwargs.{key}"] = safe_repr(value)
        consumer = client.consumer
        if consumer is not None:
            try:
                attrs = dict(vars(consumer))
            except TypeError:
                attrs = {}
            for name in attrs:
                if name not in CHANNELS_INTERNALS and not name.startswith("__") and name not in client.var_order:
                    client.var_order.append(name)
            for name in client.var_order:
                if name in attrs and len(shown) < protocol.MAX_VARS:
                    shown[name] = safe_repr(attrs[name])
        return shown

    def vars_of(self, client: Any) -> dict[str, str]:
        """describe_vars, or nothing when the consumer changes under a note written from another thread."""
        try:
            return self.describe_vars(client)
        except Exception:  # noqa: BLE001 - e.g. the loop thread adding an attribute while a watcher reads them
            return {}

    def trace(
        self,
        kind: str,
        client: Any,
        *,
        action: str,
        evaluation: str,
        result: str,
        method: str | None = None,
        line: int | None = None,
        topic: str | None = None,
    ) -> None:
        """Emit one trace event with the client's current state, groups and variables (notes also name a topic)."""
        with self.lock:
            self.step += 1
            step = self.step
        limit = protocol.MAX_WORDS_CHARS
        row = {
            "step": step,
            "t": round((time.monotonic() - self.t0) * 1000, 1),
            "client": client.id if client is not None else None,
            "kind": kind,
            "method": method,
            "line": line,
            "action": clip(action, limit),
            "evaluation": clip(evaluation, limit),
            "result": clip(result, limit),
            "state": client.state if client is not None else "none",
            "vars": self.vars_of(client),
            "groups": list(client.groups) if client is not None else [],
            **({"topic": topic} if topic else {}),
        }
        self.emitter.emit({"type": protocol.TRACE, **protocol.trace_row(row)})

    def output(self, client: Any, stream: str, text: str) -> None:
        """A trace event for learner output; only the first MAX_OUTPUT_TRACES are traced."""
        with self.lock:
            self.output_traces += 1
            count = self.output_traces
        if count > MAX_OUTPUT_TRACES:
            return
        frame = self.learner_frame()
        if count == MAX_OUTPUT_TRACES:
            text, result = "", "further output is shown in the output panel only"
        else:
            result = f"the output panel shows {safe_repr(text.rstrip(chr(10)), 200)}"
        self.trace(
            "output",
            client,
            method=frame.f_code.co_name if frame is not None else None,
            line=frame.f_lineno if frame is not None else None,
            action=f"print() writes to {stream}",
            evaluation="learner output goes to its own stream, never to the protocol",
            result=result,
        )

    # -- errors --------------------------------------------------------------------------------
    def format_exception(self, exc: BaseException) -> tuple[str, int | None]:
        """The traceback cut to the learner's frames (plus the library frames they called) and the learner line."""
        tb = traceback.TracebackException.from_exception(exc)
        frames = list(tb.stack)
        mine = [i for i, frame in enumerate(frames) if frame.filename == self.filename]
        line = frames[mine[-1]].lineno if mine else None
        if isinstance(exc, SyntaxError) and exc.filename == self.filename:
            line = exc.lineno
        if mine:
            after = [f for i, f in enumerate(frames) if i > mine[-1]][:3]
            kept = [frames[i] for i in mine] + after
        else:
            kept = [f for f in frames if os.path.dirname(f.filename) not in HARNESS_DIRS][-3:]
        text = "Traceback (most recent call last):\n"
        text += "".join(traceback.StackSummary.from_list(kept).format())
        text += "".join(tb.format_exception_only())
        return clip(text, protocol.MAX_TRACEBACK_CHARS), line

    def error(self, client: Any, method: str | None, exc: BaseException, hint: str = "") -> int | None:
        """Emit an error event for a learner exception; returns the learner line."""
        text, line = self.format_exception(exc)
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if hint:
            message = f"{message}\n{hint}"
        self.emitter.emit(
            {
                "type": protocol.ERROR,
                "client": client.id if client is not None else None,
                "method": method,
                "message": clip(message, protocol.MAX_MESSAGE_CHARS),
                "traceback": text,
                "line": line,
            }
        )
        return line

    def problem(self, client: Any, message: str, method: str | None = None) -> None:
        """Emit an error event that is not an exception (a misuse the harness detected)."""
        self.emitter.emit(
            {
                "type": protocol.ERROR,
                "client": client.id if client is not None else None,
                "method": method,
                "message": clip(message, protocol.MAX_MESSAGE_CHARS),
                "traceback": None,
                "line": self.learner_line(),
            }
        )


class TracedStream:
    """sys.stdout/sys.stderr replacement: line-buffered writes straight to the fd, one trace event per line."""

    def __init__(self, fd: int, name: str, tracer_ref: Callable[[], tuple[Tracer, Any] | None]) -> None:
        self.fd = fd
        self.name = name
        self.tracer_ref = tracer_ref  # returns (tracer, current client), or None: nothing to trace
        self.encoding = "utf-8"
        self.errors = "backslashreplace"
        self.pending = ""
        self.lock = threading.RLock()

    def write(self, text: str) -> int:
        """Buffer until a newline (or 8 KiB), then write the complete lines and trace them."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self.lock:
            self.pending += text
            cut = self.pending.rfind("\n") + 1
            if len(self.pending) > 8192:
                cut = len(self.pending)
            if cut:
                chunk, self.pending = self.pending[:cut], self.pending[cut:]
                self._emit(chunk)
        return len(text)

    def _emit(self, chunk: str) -> None:
        data = chunk.encode("utf-8", "backslashreplace")
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        found = self.tracer_ref()
        if found is not None and chunk.strip():
            tracer, client = found
            tracer.output(client, self.name, chunk)

    def flush(self) -> None:
        """Write out a partial line."""
        with self.lock:
            chunk, self.pending = self.pending, ""
            if chunk:
                self._emit(chunk)

    def isatty(self) -> bool:
        """Never a terminal."""
        return False

    def fileno(self) -> int:
        """The real descriptor."""
        return self.fd

    def writable(self) -> bool:
        """Always writable."""
        return True

    def readable(self) -> bool:
        """Output only."""
        return False

    @property
    def closed(self) -> bool:
        """Never closed."""
        return False
