"""Inside the sandbox: mistakes Channels does not explain by itself, as `note` trace rows in plain words."""

from __future__ import annotations

import ast
import linecache
import os
import re
import sys
import threading
import warnings
from types import FrameType
from typing import Any

from .narration import def_line, short
from .tracing import CURRENT_CLIENT, Tracer

NOTE_REPEATS = 5  # notes about the same thing at the same line; more would only repeat it
MAX_NOTES = 300
ORIGIN_DEPTH = 4  # frames kept for where each coroutine was created (exact line of a missing await)
CO_COROUTINE = 0x80
CHANNELS_METHODS = frozenset(
    {"accept", "send", "close", "send_json", "group_add", "group_discard", "group_send", "new_channel", "receive"}
)
# What a call that never ran would have done.
EFFECTS = {
    "accept": "the handshake is never completed",
    "send": "the frame is never sent",
    "send_json": "the message is never sent",
    "close": "the connection is not closed",
    "group_add": "the channel never joins the group",
    "group_discard": "the channel stays in the group",
    "group_send": "nobody receives the message",
}
# What Daphne (4.2.3, default verbosity) says about a coroutine never awaited (checked in tests/playground/).
DAPHNE_UNAWAITED = (
    "Under Daphne at its default verbosity nothing is logged about it (Twisted's logging drops Python warnings; "
    "daphne -v 2 shows the RuntimeWarning)"
)
AWAIT_NOT_CALLED = re.compile(r"object (method|function) can't be used in 'await' expression")
AWAITED_NAME = re.compile(r"await\s+([A-Za-z_][\w.]*)\s*(?:$|#)")


class Diagnostics:
    """Decides when a mistake happened and writes the note that explains it (what, why, what to write instead)."""

    def __init__(self, tracer: Tracer, clients: dict[str, Any]) -> None:
        self.tracer = tracer
        self.clients = clients
        self.counts: dict[tuple[str, int | None], int] = {}
        self.total = 0
        self.lock = threading.Lock()

    def note(
        self,
        topic: str,
        client: Any,
        *,
        method: str | None,
        line: int | None,
        action: str,
        evaluation: str,
        result: str,
    ) -> None:
        """Emit one `note` row, unless this topic was already noted NOTE_REPEATS times at this line."""
        with self.lock:
            key = (topic, line)
            self.counts[key] = self.counts.get(key, 0) + 1
            self.total += 1
            if self.counts[key] > NOTE_REPEATS or self.total > MAX_NOTES:
                return
        self.tracer.trace(
            "note", client, method=method, line=line, action=action, evaluation=evaluation, result=result, topic=topic
        )

    def install(self) -> None:
        """Hear about every coroutine that is garbage-collected without ever running, and where it was created."""

        def hook(coro: Any) -> None:
            try:
                self.unawaited(coro)
            except Exception:  # noqa: BLE001 - a finalizer hook must never raise
                pass
            # The usual warning still reaches the Output panel, worded as Python words it without origin tracking,
            # but straight to the stderr descriptor: the note explains it, so it gets no "print()" trace row.
            qualname = getattr(coro, "__qualname__", "?")
            text = f"RuntimeWarning: coroutine '{qualname}' was never awaited\n"
            try:
                os.write(2, text.encode("utf-8", "backslashreplace"))
            except OSError:
                pass

        warnings._warn_unawaited_coroutine = hook  # type: ignore[attr-defined]
        sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)  # the loop thread; sync workers fall back below

    # -- the diagnostics -------------------------------------------------------------------------
    def unawaited(self, coro: Any) -> None:
        """`self.send(...)` without await, or a channel-layer call from sync code without async_to_sync."""
        origin = [entry for entry in (getattr(coro, "cr_origin", None) or ()) if entry[0] == self.tracer.filename]
        frame: FrameType | None = sys._getframe(1)  # where the coroutine was dropped: this thread only
        while frame is not None and frame.f_code.co_filename != self.tracer.filename:
            frame = frame.f_back
        if origin:
            line, method = origin[0][1], origin[0][2]
        elif frame is not None:
            line, method = frame.f_lineno, frame.f_code.co_name
        else:
            return  # not the learner's coroutine
        client = CURRENT_CLIENT.get()
        qualname = str(getattr(coro, "__qualname__", "?"))
        name = qualname.rsplit(".", 1)[-1]
        call = f"self.channel_layer.{name}" if "Layer." in qualname else f"self.{name}" if "." in qualname else name
        effect = EFFECTS.get(name, f"the body of {name}() never runs")
        source = linecache.getline(self.tracer.filename, line).strip()
        written = source if source.startswith(f"{call}(") and source.endswith(")") else f"{call}(...)"
        if is_sync(client, frame, method):
            arguments = written[len(call) :] if written.startswith(f"{call}(") else "(...)"
            self.note(
                "unawaited", client, method=method, line=line,
                action=f"{written} called from sync code in {method}()",
                evaluation=f"{name}() is async: called from a sync consumer it only returns a coroutine, "
                "and nothing ever runs that coroutine",
                result=f"{effect}. Wrap it: async_to_sync({call}){arguments} (from asgiref.sync import "
                f"async_to_sync). {DAPHNE_UNAWAITED}",
            )  # fmt: skip
        else:
            self.note(
                "unawaited", client, method=method, line=line,
                action=f"{written} without await in {method}()",
                evaluation=f"calling the async method {name}() only creates a coroutine; "
                "it runs when awaited, and this one never was",
                result=f"{effect}. Write await {written}. {DAPHNE_UNAWAITED}",
            )  # fmt: skip

    def connect_returned(self, client: Any, consumer: Any, method: str) -> None:
        """connect() returned and the client is still in the handshake."""
        self.note(
            "pending_handshake", client, method=method, line=def_line(consumer, method),
            action=f"{method}() returned without calling accept() or close()",
            evaluation="the WebSocket handshake stays pending: the browser waits for the server's answer, "
            "and nothing it sends reaches the consumer",
            result=f"{client.id} waits. Daphne drops the connection when its handshake timeout runs out (5 s by "
            "default; the playground does the same) and the browser sees close code 1006. Call accept() in connect()",
        )  # fmt: skip

    def send_before_accept(self, client: Any, method: str | None, line: int | None, call: str) -> None:
        """send() while the handshake is still pending."""
        self.note(
            "send_before_accept", client, method=method, line=line,
            action=f"{call} before accept()",
            evaluation="the WebSocket handshake has not completed, so there is no open connection to send on",
            result="the frame is dropped (Daphne raises ValueError: Socket has not been accepted, so cannot send "
            "over it). Call accept() first",
        )  # fmt: skip

    def exception_hint(self, client: Any, method: str | None, line: int | None, exc: BaseException) -> None:
        """Plain words for a TypeError from `await self.accept` (no parentheses) or awaiting a sync result."""
        if not isinstance(exc, TypeError):
            return
        text = str(exc)
        source = linecache.getline(self.tracer.filename, line).strip() if line else ""
        if AWAIT_NOT_CALLED.search(text):
            found = AWAITED_NAME.search(source)
            name = found.group(1) if found else "the method"
            self.note(
                "await_without_call", client, method=method, line=line,
                action=f"await {name} without parentheses",
                evaluation=f"{name} is the method itself; only calling it creates the coroutine that await runs",
                result=f"Python raises TypeError: {short(text, 80)}. Write await {name}()",
            )  # fmt: skip
        elif "NoneType can't be used in 'await' expression" in text:
            self.note(
                "await_sync_result", client, method=method, line=line,
                action=f"await on the result of a regular (sync) function: {short(source, 80)}",
                evaluation="the function already ran and returned None; there is nothing to await",
                result="Python raises TypeError. Call it without await, or use its async version",
            )  # fmt: skip

    def group_send(self, group: Any, message: Any, members: list[Any], method: str | None, line: int | None) -> None:
        """A message without a usable type, or one whose handler some receiving consumer lacks."""
        if not isinstance(message, dict):
            return
        client = CURRENT_CLIENT.get()
        action = f"group_send({group!r}, {short(message, 80)})"
        kind = message.get("type")
        if kind is None or not isinstance(kind, str) or kind.replace(".", "_").startswith("_"):
            problem = (
                "has no 'type'"
                if kind is None
                else "has a 'type' that is not a string"
                if not isinstance(kind, str)
                else f"has type {kind!r}, which turns into a name with a leading underscore"
            )
            self.note(
                "group_send_type", client, method=method, line=line, action=action,
                evaluation=f"the message {problem}: Channels needs a type such as 'chat.message' to pick the handler "
                "method (chat_message) on each receiving consumer",
                result=f"every consumer in {group!r} raises ValueError when the message arrives and its connection "
                "closes with 1011. Add 'type': 'chat.message' and define chat_message(self, event)",
            )  # fmt: skip
            return
        handler = kind.replace(".", "_")
        lacking = [c for c in members if c.consumer is not None and not has_handler(c.consumer, handler)]
        if not lacking:
            return
        names = ", ".join(sorted({type(c.consumer).__name__ for c in lacking}))
        who = ", ".join(c.id for c in lacking) + (" is" if len(lacking) == 1 else " are")
        self.note(
            "group_send_handler", client, method=method, line=line, action=action,
            evaluation=f"type {kind!r} names the handler method {handler}(); {names} defines no {handler}()",
            result=f"when the message arrives, Channels raises ValueError: No handler for message type {kind}, "
            f"and {who} closed with 1011. Define async def {handler}(self, event) (or fix the type)",
        )  # fmt: skip

    def blocked(self, consumer: Any, method: str | None, line: int | None, seconds: float) -> None:
        """The loop was held by a handler for `seconds` (reported by the lag monitor)."""
        client = next((c for c in list(self.clients.values()) if c.consumer is consumer), None)
        source = linecache.getline(self.tracer.filename, line).strip() if line else ""
        where = f" at line {line} ({short(source, 60)[1:-1]})" if source else ""
        self.note(
            "blocking", client, method=method, line=line,
            action=f"{f'{method}()' if method else 'a handler'} held the event loop for about "
            f"{round(seconds * 1000)} ms{where}",
            evaluation="a blocking call in an async consumer (time.sleep, blocking I/O, a long computation) stops the "
            "whole event loop: no other consumer, client or timer runs meanwhile",
            result="use await asyncio.sleep(...) instead of time.sleep(...), and run blocking work in a thread "
            "with sync_to_async or database_sync_to_async",
        )  # fmt: skip

    def still_blocked(self, consumer: Any, method: str | None, line: int | None, seconds: float) -> None:
        """From the watcher thread: a handler has held the event loop for a while and has not returned yet."""
        client = next((c for c in list(self.clients.values()) if c.consumer is consumer), None)
        source = linecache.getline(self.tracer.filename, line).strip() if line else ""
        where = f" at line {line} ({short(source, 60)[1:-1]})" if source else ""
        name = f"{method}()" if method else "a handler"
        self.note(
            "loop_held", client, method=method, line=line,
            action=f"{name} is still running{where}: it has held the event loop for {seconds:.1f} s",
            evaluation="until it returns nothing else in this process runs: no other consumer, no new client's "
            "handshake, no timer. A Daphne process is frozen the same way: new connections are not even logged, "
            "and it does not stop on SIGTERM",
            result="an endless loop never returns (the playground ends the run at its CPU limit); a blocking call "
            "returns when it is done. Use await asyncio.sleep(...), and run blocking work with sync_to_async",
        )  # fmt: skip

    def waiting(self, client: Any, op: dict[str, Any], consumer: Any, method: str | None, line: int | None,
                seconds: float) -> None:  # fmt: skip
        """From the op reader thread: a client's connect or frame that waits for the handler holding the loop."""
        name = f"{method}()" if method else "a handler"
        holder = f"{name} (line {line})" if line else name
        if op.get("type") == "client.connect":
            action = f"{client.id} opens a WebSocket to {client.path} while {holder} holds the event loop"
            evaluation = (
                "the request reaches the server, but no Python runs until the handler returns: Channels creates no "
                "consumer and nobody answers the handshake (Daphne does not even log WSCONNECTING)"
            )
            result = f"{client.id} waits, connecting; it is handled once {name} returns, and never if it never does"
        else:
            payload = op.get("text") if "text" in op else "a binary frame"
            action = f"{client.id} sends {short(payload)} while {holder} holds the event loop"
            evaluation = "the frame is queued; no handler can run for it until the loop is free"
            result = f"receive() runs for it once {name} returns, and never if it never does"
        self.note("loop_held", client, method=method, line=line, action=action, evaluation=evaluation, result=result)

    def static_notes(self, code: str) -> None:
        """At load: statements like `self.accept` that name a method without calling it (they do nothing)."""
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return
        learner_methods = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for statement in ast.walk(function):
                if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Attribute)):
                    continue
                name = ast.unparse(statement.value)
                if statement.value.attr in CHANNELS_METHODS | learner_methods and name.startswith("self."):
                    self.note(
                        "not_called", None, method=function.name, line=statement.lineno,
                        action=f"{name} in {function.name}() names the method without calling it",
                        evaluation="a method name on its own is just a value: the line does nothing",
                        result=f"write {'await ' if isinstance(function, ast.AsyncFunctionDef) else ''}{name}()",
                    )  # fmt: skip


def has_handler(consumer: Any, name: str) -> bool:
    """Would Channels find a handler called `name` on this consumer?"""
    try:
        return getattr(consumer, name, None) is not None
    except Exception:  # noqa: BLE001 - a learner __getattr__ that raises: Channels would fail too
        return False


def is_sync(client: Any, frame: FrameType | None, method: str | None) -> bool:
    """Was the coroutine created by sync code (a SyncConsumer's handler, or a plain def)?"""
    consumer = client.consumer if client is not None else None
    if consumer is not None and getattr(type(consumer), "_sync", False):
        return True
    return frame is not None and frame.f_code.co_name == method and not frame.f_code.co_flags & CO_COROUTINE
