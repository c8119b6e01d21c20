"""Inside the sandbox: the plain-words side of tracing: which learner method a message runs, and what to say about it."""

from __future__ import annotations

from typing import Any

from ..shared.protocol import close_meaning


def handler_names(consumer: Any, message_type: str) -> tuple[str, str]:
    """(trace kind, learner-facing method name) for a message about to be dispatched."""
    if message_type == "websocket.connect":
        return "connect", first_learner_method(consumer, ("websocket_connect", "connect"), "connect")
    if message_type == "websocket.receive":
        names = ("websocket_receive", "receive", "receive_json")
        return "receive", first_learner_method(consumer, names, "receive")
    if message_type == "websocket.disconnect":
        return "disconnect", first_learner_method(consumer, ("websocket_disconnect", "disconnect"), "disconnect")
    return "handler", message_type.replace(".", "_")


def defining_module(consumer: Any, name: str) -> str | None:
    """Module of the class that defines `name` for this consumer's class."""
    for klass in type(consumer).__mro__:
        if name in vars(klass):
            return klass.__module__
    return None


def first_learner_method(consumer: Any, names: tuple[str, ...], default: str) -> str:
    """The first of `names` the learner defined (the method their code runs in), else `default`."""
    learner = sys_module_of(consumer)
    for name in names:
        if defining_module(consumer, name) == learner:
            return name
    return default


def sys_module_of(consumer: Any) -> str:
    """The learner module name (the consumer's class module)."""
    return type(consumer).__module__


def def_line(consumer: Any, name: str) -> int | None:
    """First line of the learner's method `name`, if the learner wrote it."""
    if defining_module(consumer, name) != sys_module_of(consumer):
        return None
    func = getattr(type(consumer), name, None)
    func = getattr(func, "func", func)  # SyncToAsync-decorated methods
    code = getattr(func, "__code__", None)
    return code.co_firstlineno if code is not None else None


def short(value: Any, limit: int = 60) -> str:
    """A message payload in a few characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trace_dispatch(tracer: Any, client: Any, consumer: Any, kind: str, method: str, message: dict[str, Any]) -> None:
    """The trace event for a message about to be handled."""
    name = type(consumer).__name__
    line = def_line(consumer, method)
    if kind == "connect" and client is not None:
        query = f"?{client.query}" if client.query else ""
        tracer.trace(
            "connect", client, method=method, line=line,
            action=f"{client.id} opens a WebSocket to {client.path}{query}",
            evaluation=f"Channels creates an instance of {name} and calls {method}()",
            result="the handshake waits until the consumer calls accept() or close()",
        )  # fmt: skip
    elif kind == "receive":
        payload = message.get("text") if message.get("text") is not None else message.get("bytes")
        argument = "text_data" if message.get("text") is not None else "bytes_data"
        tracer.trace(
            "receive", client, method=method, line=line,
            action=f"{client.id if client else 'a client'} sends {short(payload)}",
            evaluation=f"Channels calls {method}({argument}={short(payload, 40)})",
            result="the consumer handles the frame",
        )  # fmt: skip
    elif kind == "disconnect":
        code = message.get("code")
        who = client.id if client else "a client"
        by = client.closed_by if client is not None else "server"
        if by == "client":
            action = f"{who} closes the connection with code {code}"
            evaluation = (
                f"Daphne answers {who}'s close frame with code 1000 (it does not echo the client's code); "
                f"Channels leaves the class-level groups and calls {method}({code})"
            )
        else:
            action = f"the connection of {who} is closed (code {code})"
            evaluation = f"Channels leaves the class-level groups and calls {method}({code})"
        tracer.trace(
            "disconnect", client, method=method, line=line, action=action, evaluation=evaluation,
            result=f"code {code} means {close_meaning(code, by)}; the consumer is discarded once {method}() returns",
        )  # fmt: skip
    else:
        tracer.trace(
            "handler", client, method=method, line=line,
            action=f"a {message.get('type')!r} message arrives from the channel layer",
            evaluation=f"Channels turns the type into the method name and calls {method}(event)",
            result="the handler runs for this client's consumer" if hasattr(consumer, method)
            else f"{name} has no method {method}(): Channels raises ValueError",
        )  # fmt: skip


def pending_action(kind: str, client: Any, message: dict[str, Any]) -> str:
    """What a held dispatch is about to do, for the `paused` event."""
    who = client.id if client is not None else "a client"
    if kind == "connect":
        return f"{who} opens a WebSocket to {client.path if client is not None else '/'}"
    if kind == "receive":
        payload = message.get("text") if message.get("text") is not None else message.get("bytes")
        return f"{who} sends {short(payload)}"
    if kind == "disconnect":
        return f"the connection of {who} closes (code {message.get('code')})"
    return f"a {short(message.get('type'))} message from the channel layer reaches {who}"
