"""Inside the sandbox: what a consumer sends to the server (accept, send, close) becomes protocol events and rows."""

from __future__ import annotations

import base64
from typing import Any

from ..shared import protocol
from ..shared.protocol import close_meaning
from .narration import short
from .tracing import CURRENT_METHOD, Tracer

CLOSED_STATES = ("closing", "closed")
PENDING_STATES = ("none", "connecting")  # the handshake has not been answered yet
NOT_ACCEPTED = "Socket has not been accepted, so cannot send over it"


def outgoing_call(message: Any) -> tuple[str | None, str]:
    """(trace kind, the call in words) for an ASGI message from a consumer; kind None for anything else."""
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "websocket.accept":
        subprotocol = message.get("subprotocol")
        return "accept", f"accept({subprotocol!r})" if subprotocol else "accept()"
    if kind == "websocket.send":
        if message.get("text") is not None:
            return "send", f"send(text_data={short(message.get('text'), 40)})"
        return "send", f"send(bytes_data={short(message.get('bytes'), 40)})"
    if kind == "websocket.close":
        return "close", f"close(code={message.get('code', 1000)})"
    return None, ""


class Outgoing:
    """The consumer -> server half of the Driver (mixed into it): the ASGI `send` callable of every client."""

    tracer: Tracer
    max_message_bytes: int
    channels: dict[str, Any]
    pauser: Any
    diagnostics: Any
    lag: Any

    async def server_send(self, client: Any, message: dict[str, Any]) -> None:
        """Wait at the pause gate (when pause is on), then apply the message as a real server would."""
        self.lag.catch_up()
        kind, action = outgoing_call(message)
        if kind is not None and self.pauser.on:
            frame = self.tracer.learner_frame()
            method = frame.f_code.co_name if frame is not None else CURRENT_METHOD.get()
            await self.pauser.gate(client, kind, action, method, frame.f_lineno if frame is not None else None)
            self.lag.arm()  # the handler runs on after its step; watch it again
        self.on_send(client, message)

    def on_send(self, client: Any, message: dict[str, Any]) -> None:
        """accept / send / close from the consumer become protocol events plus a trace event."""
        tracer = self.tracer
        frame = tracer.learner_frame()
        method = frame.f_code.co_name if frame is not None else CURRENT_METHOD.get()
        line = frame.f_lineno if frame is not None else None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "websocket.accept":
            if client.state in CLOSED_STATES:
                return  # the client gave up during the handshake; a real server ignores the late accept
            if client.state != "connecting":
                tracer.problem(client, f"accept() called while the connection is {client.state}", method)
                return
            subprotocol = message.get("subprotocol")
            if subprotocol is not None and subprotocol not in client.offered:
                self.unanswerable(client, subprotocol, method, line)
                return
            client.state = "accepted"
            event: dict[str, Any] = {"type": protocol.CONSUMER_ACCEPT, "client": client.id, "subprotocol": subprotocol}
            if message.get("headers"):
                event["headers"] = [[_text(k), _text(v)] for k, v in message["headers"]][:16]
            tracer.emitter.emit(event)
            chosen = f" with subprotocol {subprotocol!r}" if subprotocol else ""
            tracer.trace(
                "accept", client, method=method, line=line,
                action=f"accept({repr(subprotocol) if subprotocol else ''})",
                evaluation=f"the server completes the WebSocket handshake{chosen}",
                result=f"{client.id} is connected and can exchange messages",
            )  # fmt: skip
        elif kind == "websocket.send":
            self.on_frame(client, message, method, line)
        elif kind == "websocket.close":
            self.on_close(client, message, method, line)
        else:
            tracer.problem(client, f"the consumer sent an unknown ASGI message type {short(kind)}", method)

    def unanswerable(self, client: Any, subprotocol: Any, method: str | None, line: int | None) -> None:
        """Daphne's WebSocket library (Autobahn) will not answer with a subprotocol the client did not offer: the
        handshake never completes and Daphne's handshake timeout drops it (tests/fidelity/test_daphne_claims.py)."""
        client.unanswerable = True
        self.tracer.trace(
            "reject", client, method=method, line=line,
            action=f"accept({subprotocol!r})",
            evaluation=f"{client.id} did not offer {short(subprotocol, 40)}, so the server cannot complete the "
            "handshake with it (Autobahn: protocol accepted must be from the list client sent or None)",
            result=f"{client.id} never opens: the handshake stays pending until the server's handshake timeout "
            f"(Daphne: 5 s) drops it; a browser reports close code 1006: {close_meaning(1006)}",
        )  # fmt: skip

    def on_frame(self, client: Any, message: dict[str, Any], method: str | None, line: int | None) -> None:
        """One outgoing WebSocket frame."""
        tracer = self.tracer
        if client.state in PENDING_STATES:
            self.diagnostics.send_before_accept(client, method, line, outgoing_call(message)[1])
            raise ValueError(NOT_ACCEPTED)  # Daphne's own error (daphne/ws_protocol.py, handle_reply): send() raises
        if client.state not in ("accepted", "open"):
            tracer.problem(client, f"send() after the connection is {client.state}: the frame is dropped", method)
            return
        text, data = message.get("text"), message.get("bytes")
        size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(data or b"")
        if size > self.max_message_bytes:
            tracer.problem(
                client,
                f"the consumer sent {size} bytes; the playground limit is {self.max_message_bytes} bytes per message",
                method,
            )
            return
        if isinstance(text, str):
            payload: str | bytes = text
            frame = {"type": protocol.CONSUMER_SEND, "client": client.id, "text": text}
        elif isinstance(data, bytes | bytearray):
            payload = bytes(data)
            frame = {
                "type": protocol.CONSUMER_SEND,
                "client": client.id,
                "bytes": base64.b64encode(data).decode("ascii"),
            }
        else:
            tracer.problem(client, "websocket.send needs text (str) or bytes", method)
            return
        # The row comes first, so whoever sees the frame arrive can already see the step that sent it.
        tracer.trace(
            "send", client, method=method, line=line,
            action=f"send({'text_data' if isinstance(payload, str) else 'bytes_data'}={short(payload, 40)})",
            evaluation=f"one frame goes down {client.id}'s socket",
            result=f"{client.id} receives {short(payload)}",
        )  # fmt: skip
        tracer.emitter.emit(frame)

    def on_close(self, client: Any, message: dict[str, Any], method: str | None, line: int | None) -> None:
        """close() before accept() rejects the handshake; after it, closes the socket."""
        tracer = self.tracer
        code = message.get("code", 1000)
        code = code if isinstance(code, int) and not isinstance(code, bool) else 1000
        reason = message.get("reason") or ""
        if client.state in PENDING_STATES:
            client.state = "closed"
            tracer.emitter.emit({"type": protocol.CONSUMER_REJECT, "client": client.id, "status": 403})
            tracer.trace(
                "reject", client, method=method, line=line,
                action="close() before accept() (DenyConnection does the same)",
                evaluation="the server refuses the WebSocket handshake with HTTP 403",
                result=f"{client.id} never opens; a browser reports close code 1006: {close_meaning(1006)}",
            )  # fmt: skip
            client.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})
        elif client.state in ("accepted", "open"):
            client.state = "closing"
            tracer.emitter.emit(
                {
                    "type": protocol.CONSUMER_CLOSE,
                    "client": client.id,
                    "code": code,
                    "reason": str(reason)[:123],
                    "by": "server",
                }
            )
            tracer.trace(
                "close", client, method=method, line=line,
                action=f"close(code={code})",
                evaluation="the server sends a close frame",
                result=f"{client.id} sees the connection close with code {code}: {close_meaning(code)}",
            )  # fmt: skip
            client.queue.put_nowait({"type": "websocket.disconnect", "code": code})

    def drop_handshake(self, client: Any, seconds: float) -> None:
        """The handshake timeout ran out: Daphne closes the TCP connection with no HTTP answer; disconnect(1006) runs."""
        reason = f"no accept() or close() within {seconds:g} s: Daphne's handshake timeout dropped the connection"
        self.tracer.emitter.emit({"type": protocol.CONSUMER_DROP, "client": client.id, "reason": reason})
        client.state = "closed"
        self.tracer.trace(
            "reject", client,
            action=f"{seconds:g} s passed and the consumer neither accepted nor refused {client.id}",
            evaluation=f"Daphne's handshake timeout ({seconds:g} s by default) drops the TCP connection without any "
            "HTTP answer and logs WSDISCONNECT (no WSREJECT, no 403)",
            result=f"{client.id} never opens: a browser reports close code 1006"
            + ("; Channels then calls disconnect(1006)" if client.live else " (its application has already returned)"),
        )  # fmt: skip
        if client.live:
            client.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})

    def finish_client(self, client: Any) -> None:
        """The consumer has stopped: close what is still open, as a real server would, and say why."""
        if client.channel_name:
            self.channels.pop(client.channel_name, None)
        if client.state in PENDING_STATES and not client.failed:
            # Daphne answers nothing when the application returns mid-handshake (daphne/server.py,
            # application_checker); its handshake timeout drops the connection later (tests/fidelity).
            self.tracer.trace(
                "reject", client,
                action="the application returned without accept() or close()",
                evaluation="nothing answers the WebSocket handshake: it stays pending until the server's handshake "
                "timeout (Daphne: 5 s) drops the connection, without an HTTP answer",
                result=f"{client.id} never opens; a browser reports close code 1006: {close_meaning(1006)}",
            )  # fmt: skip
            return
        if client.state in PENDING_STATES:
            status = 500  # only an exception reaches here: an application that simply returned is answered nothing
            event = {"type": protocol.CONSUMER_REJECT, "client": client.id, "status": status}
            if client.refusal:
                event["reason"] = client.refusal
            self.tracer.emitter.emit(event)
            client.state = "closed"
            if client.refusal:
                self.tracer.trace(
                    "reject", client,
                    action=f"{client.id} asks for {client.path}: {client.refusal}",
                    evaluation="URLRouter raises ValueError: No route found for path; Daphne answers the handshake with "
                    "HTTP 500 and logs the exception (ERROR Exception inside application)",
                    result=f"{client.id} never opens: a browser sees close code 1006 and no reason. Fix the client's "
                    "path or add a route to websocket_urlpatterns",
                )  # fmt: skip
            else:
                self.tracer.trace(
                    "reject", client,
                    action="the consumer stopped before accept() (it raised an exception)",
                    evaluation=f"the server refuses the WebSocket handshake with HTTP {status}",
                    result=f"{client.id} never opens: {close_meaning(status)}",
                )  # fmt: skip
        elif client.state in ("accepted", "open") and not client.failed:
            # Daphne closes nothing when the application returns (daphne/server.py, application_checker).
            self.tracer.trace(
                "close", client,
                action="the consumer stopped without calling close()",
                evaluation="the server does not close the socket for it: it stays open with no consumer behind it",
                result=f"{client.id} stays connected; what it sends is dropped until it leaves",
            )  # fmt: skip
            return
        elif client.state in ("accepted", "open"):
            code = 1011
            self.tracer.emitter.emit(
                {"type": protocol.CONSUMER_CLOSE, "client": client.id, "code": code, "reason": "", "by": "server"}
            )
            client.state = "closed"
            self.tracer.trace(
                "close", client,
                action="the consumer stopped" + (" after an exception" if client.failed else ""),
                evaluation=f"the server closes the socket for it with code {code}",
                result=f"{client.id} sees close code {code}: {close_meaning(code)}",
            )  # fmt: skip
        client.state = "closed"


def _text(value: Any) -> str:
    """Header names/values may be bytes or str in ASGI."""
    return value.decode("latin-1") if isinstance(value, bytes | bytearray) else str(value)
