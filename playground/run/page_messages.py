"""The page message for each sandbox event about the page's own panel clients, output, errors and state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CLOSE_EXPLANATIONS = {
    1000: "normal closure",
    1001: "going away (page closed or server shutting down)",
    1006: "closed without a close frame (the connection dropped)",
    1009: "message too big",
    1011: "the server hit an unexpected error",
    403: "handshake refused: connect() closed or raised DenyConnection before accept()",
}


def explain_close(code: int) -> str:
    if code in CLOSE_EXPLANATIONS:
        return CLOSE_EXPLANATIONS[code]
    if 4000 <= code <= 4999:
        return "an application-defined code chosen by the consumer"
    return ""


def frame(event: dict[str, Any]) -> dict[str, Any]:
    """The data of a `send` event, text or base64 bytes, as the page and the live proxy both take it."""
    return {"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]}


def client_closed(event: dict[str, Any]) -> dict[str, Any]:
    code = event.get("code") or 403
    return {"type": "client.closed", "client": event.get("client"), "code": code, "explanation": explain_close(code)}


def as_is(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": event["ev"], **{k: v for k, v in event.items() if k != "ev"}}


PAGE_MESSAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "accept": lambda e: {"type": "client.accepted", "client": e.get("client"), "subprotocol": e.get("subprotocol")},
    "send": lambda e: {"type": "client.message", "client": e.get("client"), **frame(e)},
    "close": client_closed,
    "reject": client_closed,
    "output": lambda e: {"type": "output", "text": e.get("text", "")},
    "error": lambda e: {"type": "error", "message": e.get("traceback") or e.get("message", ""), "line": e.get("line")},
    "paused": as_is,
    "resumed": as_is,
    "loaded": lambda e: {"type": "status", "state": "running", "reason": None},
}


def page_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The page message for a sandbox event, or None for an event the page is not told about."""
    to_page = PAGE_MESSAGES.get(event["ev"])
    return to_page(event) if to_page else None
