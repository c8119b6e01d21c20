"""Inside the sandbox: drives each client through Channels' real ASGI machinery and reports what happens."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..shared import protocol
from . import appload, narration
from .diagnose import Diagnostics
from .lagwatch import LagMonitor
from .narration import handler_names, short
from .outgoing import CLOSED_STATES, PENDING_STATES, Outgoing
from .pausing import Pauser
from .traced_layer import make_traced_layer
from .tracing import CURRENT_CLIENT, CURRENT_METHOD, Tracer

if TYPE_CHECKING:
    from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
    from channels.consumer import AsyncConsumer, SyncConsumer, _ChannelScope


class Client:
    """One simulated WebSocket connection and the consumer instance Channels created for it."""

    def __init__(self, op: dict[str, Any], number: int) -> None:
        self.id: str = op["client"]
        self.path: str = op.get("path", "/")
        self.query: str = op.get("query", "")
        self.number = number
        self.state = "none"
        self.kwargs: dict[str, Any] = {}
        self.groups: list[str] = []
        self.consumer: Any = None
        self.channel_name: str | None = None
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.busy = 0  # dispatches running
        self.pending = 0  # messages received but not yet dispatched
        self.var_order: list[str] = []
        self.failed = False
        self.closed_by = "server"  # who started the close: "client" after a client.close op
        self.refusal = ""  # why the handshake failed, in words, when it failed outside the consumer (no route)
        self.offered: list[str] = [str(s) for s in op.get("subprotocols", [])]
        self.unanswerable = False  # accept() chose a subprotocol the client did not offer: no handshake can complete

    @property
    def live(self) -> bool:
        """True while Channels still runs this client's consumer."""
        return self.task is not None and not self.task.done()


class Driver(Outgoing):
    """Owns the clients, the traced channel layer and the hooks into Channels; turns ops into ASGI messages."""

    def __init__(self, tracer: Tracer, max_message_bytes: int, handshake_timeout: float = 5.0) -> None:
        self.loaded: appload.LoadedApp | None = None  # set once the learner module has loaded
        self.tracer = tracer
        self.max_message_bytes = max_message_bytes
        self.handshake_timeout = handshake_timeout
        self.clients: dict[str, Client] = {}
        self.channels: dict[str, Client] = {}
        self.layer: Any = None
        self.connections = 0
        self.pauser = Pauser(tracer)
        self.diagnostics = Diagnostics(tracer, self.clients)
        self.lag = LagMonitor(
            tracer.filename, self.handler_running, self.diagnostics.blocked, self.diagnostics.still_blocked
        )

    # -- setup ---------------------------------------------------------------------------------
    def install(self) -> None:
        """Replace the default channel layer with a traced one and wrap Channels' dispatch and __call__."""
        from channels.consumer import AsyncConsumer, SyncConsumer
        from channels.layers import channel_layers

        self.diagnostics.install()
        self.layer = make_traced_layer(self)
        channel_layers.set("default", self.layer)
        driver = self
        original_call = AsyncConsumer.__call__
        original_async_dispatch = AsyncConsumer.dispatch
        original_sync_dispatch = vars(SyncConsumer)["dispatch"]  # the SyncToAsync object, not a bound partial

        # These become the consumer classes' methods, so their first parameter is named `self` like the ones replaced.
        async def traced_call(
            self: AsyncConsumer, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable
        ) -> None:
            client = CURRENT_CLIENT.get()
            if client is not None and client.consumer is None:
                client.consumer = self
                client.kwargs = dict(scope.get("url_route", {}).get("kwargs", {}))
            await original_call(self, scope, receive, send)

        async def async_dispatch(self: AsyncConsumer, message: dict[str, Any]) -> None:
            await driver.dispatch(self, message, original_async_dispatch.__get__(self))

        async def sync_dispatch(self: SyncConsumer, message: dict[str, Any]) -> None:
            await driver.dispatch(self, message, original_sync_dispatch.__get__(self, type(self)))

        # Patching Channels' classes is the point: every consumer's ASGI call and dispatch passes through the driver.
        AsyncConsumer.__call__ = traced_call  # type: ignore[method-assign]
        AsyncConsumer.dispatch = async_dispatch  # type: ignore[method-assign]
        SyncConsumer.dispatch = sync_dispatch  # type: ignore[method-assign]

    # -- dispatch: every message a consumer handles passes here --------------------------------
    async def dispatch(
        self, consumer: AsyncConsumer, message: dict[str, Any], original: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        """Wait at the pause gate, trace the start of a handler, run it, and explain what went wrong."""
        client = CURRENT_CLIENT.get()
        message_type = str(message.get("type", "?"))
        kind, method = handler_names(consumer, message_type)
        if self.pauser.on:
            action = narration.pending_action(kind, client, message)
            await self.pauser.gate(client, kind, action, method, narration.def_line(consumer, method))
        if client is not None:
            client.pending = max(0, client.pending - 1)
            client.busy += 1
            if kind == "disconnect":
                client.state = "closed"  # Channels calls disconnect() once the socket is already gone
            if client.consumer is None:
                client.consumer = consumer
        token = CURRENT_METHOD.set(method)
        try:
            narration.trace_dispatch(self.tracer, client, consumer, kind, method, message)
            if client is not None and kind == "connect" and client.state == "none":
                client.state = "connecting"  # from here until accept() or close(), the handshake is pending
            self.lag.arm()
            await original(message)
        except MemoryError:
            self.tracer.emitter.limit("memory", "the consumer ran out of memory (address-space limit)")
            raise
        except BaseException as exc:
            from channels.exceptions import StopConsumer

            if not isinstance(exc, StopConsumer | asyncio.CancelledError) and client is not None and not client.failed:
                self.report_exception(client, method, exc)
            raise
        finally:
            CURRENT_METHOD.reset(token)
            if client is not None:
                client.busy -= 1
            flush_output()
        if client is not None and kind == "connect" and client.state == "connecting" and not client.unanswerable:
            self.diagnostics.connect_returned(client, consumer, method)
        if client is not None and kind == "connect" and client.state == "accepted":
            client.state = "open"

    def report_exception(self, client: Client, method: str, exc: BaseException) -> None:
        """An error event, an `exception` row, and a note when the mistake has a plain explanation."""
        client.failed = True
        line = self.tracer.error(client, method, exc)
        after = "the server closes the connection with code 1011" if client.state in ("accepted", "open") else ""
        if client.state in PENDING_STATES:
            after = "the handshake is refused (HTTP 500)"
        self.tracer.trace(
            "exception", client, method=method, line=line,
            action=f"{method}() raised {type(exc).__name__}",
            evaluation=short(str(exc), 200) if str(exc) else type(exc).__name__,
            result=after or "Channels stops this consumer",
        )  # fmt: skip
        self.diagnostics.exception_hint(client, method, line, exc)

    def handler_running(self) -> bool:
        """Is some consumer running a handler right now (not waiting at the pause gate)?"""
        return any(c.busy and c.live and not self.pauser.holds(c) for c in list(self.clients.values()))

    # -- ops from the host -----------------------------------------------------------------
    def arriving(self, op: Any) -> None:
        """On the op reader thread, before the loop takes `op`: a connect or frame that a handler holding the loop
        keeps waiting is shown at once (a new client appears with its state), with who holds the loop."""
        if not isinstance(op, dict) or op.get("type") not in (protocol.CLIENT_CONNECT, protocol.CLIENT_SEND):
            return
        held = self.lag.holding()
        if held is None:
            return
        client = self.clients.get(str(op.get("client")))
        if op["type"] == protocol.CLIENT_CONNECT and (client is None or client.state == "closed"):
            client = Client(op, 0)  # a stand-in for the note: the real one is made when the loop takes the op
        if client is not None:
            self.diagnostics.waiting(client, op, *held)

    def handle(self, op: dict[str, Any]) -> None:
        """Apply one client op synchronously, so ops take effect in the order they arrived."""
        kind = op.get("type")
        client_id = op.get("client")
        client = self.clients.get(client_id) if isinstance(client_id, str) else None
        if kind == protocol.CLIENT_CONNECT:
            if client is not None and client.state not in ("closed",):
                self.tracer.problem(client, f"{client_id} is already connected")
                return
            self.connect(op)
        elif kind == protocol.CLIENT_SEND:
            if client is not None and client.state in ("accepted", "open") and not client.live:
                self.tracer.trace(
                    "receive", client,
                    action=f"{client.id} sends a frame",
                    evaluation=f"no consumer runs for {client.id} any more, but the server keeps its socket open",
                    result="the frame is dropped",
                )  # fmt: skip
                return
            if client is None or client.state not in ("accepted", "open") or not client.live:
                why = {
                    "none": "the consumer has not accepted the connection yet",
                    "connecting": "the consumer has not accepted the connection yet",
                    "closing": "the connection is closing",
                    "closed": "the connection is closed",
                }.get(client.state if client is not None else "", "it is not connected")
                self.tracer.problem(client, f"{client_id} cannot send: {why}")
                return
            if "bytes" in op:
                message = {"type": "websocket.receive", "bytes": base64.b64decode(op["bytes"])}
            else:
                message = {"type": "websocket.receive", "text": op["text"]}
            client.queue.put_nowait(message)
        elif kind == protocol.CLIENT_CLOSE:
            if client is not None and (client.state in PENDING_STATES or not client.live):
                self.leave(client, op.get("code", 1000))
                return
            if client is None or client.state == "closed" or not client.live:
                self.tracer.problem(client, f"{client_id} is not connected")
                return
            code = op.get("code", 1000)
            client.closed_by = "client"
            if client.state not in CLOSED_STATES:
                self.tracer.emitter.emit(
                    {"type": protocol.CONSUMER_CLOSE, "client": client.id, "code": code, "reason": "", "by": "client"}
                )
                client.state = "closing"
            client.queue.put_nowait({"type": "websocket.disconnect", "code": code})
        else:
            self.tracer.problem(None, f"unsupported operation {str(kind)[:40]!r}")

    def leave(self, client: Client, code: int) -> None:
        """A client leaves mid-handshake (it can only drop the connection: Daphne passes 1006 on) or leaves a socket
        whose consumer has already stopped (the server answers its close frame with nobody to tell)."""
        if client.state == "closed":
            self.tracer.problem(client, f"{client.id} is not connected")
            return
        if client.state in PENDING_STATES:
            code = 1006
        self.tracer.emitter.emit(
            {"type": protocol.CONSUMER_CLOSE, "client": client.id, "code": code, "reason": "", "by": "client"}
        )
        self.tracer.trace(
            "close", client,
            action=f"{client.id} leaves" + (" before the handshake completed" if code == 1006 else ""),
            evaluation="a client cannot send a close frame before the handshake completes; it drops the connection"
            if code == 1006 else "the server answers the close frame itself",
            result=f"the connection ends with code {code}: {protocol.close_meaning(code)}",
        )  # fmt: skip
        if client.live:
            client.state = "closing"
            client.queue.put_nowait({"type": "websocket.disconnect", "code": code})
        else:
            client.state = "closed"

    def connect(self, op: dict[str, Any]) -> None:
        """Start Channels' ASGI app for a new client with a websocket scope."""
        self.connections += 1
        client = Client(op, self.connections)
        client.state = "none"  # the handshake request exists, the connection does not (seed 001's "None")
        self.clients[client.id] = client
        client.queue.put_nowait({"type": "websocket.connect"})
        token = CURRENT_CLIENT.set(client)
        try:
            loop = asyncio.get_running_loop()
            client.task = loop.create_task(self.run_client(client, self.scope_for(op, client)))
            loop.call_later(self.handshake_timeout, self.handshake_deadline, client)
        finally:
            CURRENT_CLIENT.reset(token)

    def handshake_deadline(self, client: Client) -> None:
        """Daphne's handshake timeout: a connection neither accepted nor refused by now is dropped (not while paused,
        so a learner can step through a handshake at their own pace)."""
        if client.state not in PENDING_STATES:
            return  # answered (or the client left) in time
        if self.pauser.on:
            asyncio.get_running_loop().call_later(self.handshake_timeout, self.handshake_deadline, client)
            return
        self.drop_handshake(client, self.handshake_timeout)

    def scope_for(self, op: dict[str, Any], client: Client) -> dict[str, Any]:
        """The websocket scope a real ASGI server would build for this connect."""
        subprotocols = [str(s) for s in op.get("subprotocols", [])]
        # Every handshake carries these; Daphne passes them on in the scope (tests/fidelity checks the names).
        key = base64.b64encode(os.urandom(16))
        headers = [
            (b"host", b"playground"),
            (b"upgrade", b"websocket"),
            (b"connection", b"Upgrade"),
            (b"sec-websocket-key", key),
            (b"sec-websocket-version", b"13"),
            (b"origin", b"http://playground"),
        ]
        given = [
            (str(k).lower().encode("latin-1", "replace"), str(v).encode("latin-1", "replace"))
            for k, v in op.get("headers", [])
        ]
        replaced = {name for name, _ in given}  # a client's own Origin (or Host) replaces the default, once
        headers = [(name, value) for name, value in headers if name not in replaced] + given
        if subprotocols:
            headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("latin-1", "replace")))
        path = op.get("path", "/")
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("playground", 80),
            "client": ("127.0.0.1", 40000 + client.number),
            "root_path": "",
            "path": path,
            "raw_path": path.encode("utf-8", "replace"),
            "query_string": op.get("query", "").encode("utf-8", "replace"),
            "headers": headers,
            "subprotocols": subprotocols,
            "user": appload.PlaygroundUser(op.get("user")),
            "cookies": {},
            "session": {},
        }

    async def run_client(self, client: Client, scope: dict[str, Any]) -> None:
        """Run the app for one client until its consumer stops; report failures outside any handler."""

        async def receive() -> dict[str, Any]:
            message = await client.queue.get()
            client.pending += 1
            return message

        async def send(message: dict[str, Any]) -> None:
            await self.server_send(client, message)

        try:
            assert self.loaded is not None
            await self.loaded.app(scope, receive, send)
        except MemoryError:
            self.tracer.emitter.limit("memory", "the consumer ran out of memory (address-space limit)")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - learner failures must not end the harness
            if not client.failed:
                client.failed = True
                self.tracer.error(client, None, exc)
                if isinstance(exc, ValueError) and str(exc).startswith("No route found for path"):
                    routes = ", ".join(self.loaded.routes) if self.loaded and self.loaded.routes else "none"
                    client.refusal = f"no route matches {client.path} (routes: {routes})"
        finally:
            self.finish_client(client)

    # -- settling: has everything that the last op caused finished? ---------------------------
    def is_idle(self) -> bool:
        """No consumer is running a handler or has a message waiting for it (a client held by pause counts as idle)."""
        for client in self.clients.values():
            if self.pauser.holds(client):
                continue
            if client.live and (client.busy or client.pending or not client.queue.empty()):
                return False
        if self.layer is not None:
            for name, queue in list(self.layer.channels.items()):
                holder = self.channels.get(name)
                if holder is not None and holder.live and not queue.empty() and not self.pauser.holds(holder):
                    return False
        return True

    async def settle(self, timeout: float) -> bool:
        """Wait until idle for a few consecutive loop turns, or until `timeout`; True when idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while loop.time() < deadline:
            quiet = quiet + 1 if self.is_idle() else 0
            if quiet >= 3:
                return True
            await asyncio.sleep(0 if quiet else 0.002)
        return False


def flush_output() -> None:
    """Write out partial lines the handler printed, so output shows up with the step that made it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - learner may have replaced the stream with anything
            pass
