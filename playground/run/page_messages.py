"""The page message for each sandbox event about the page's own panel clients, output, errors and state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playground.sandbox.shared import protocol
from playground.sandbox.shared.protocol import close_meaning


def frame(event: dict[str, Any]) -> dict[str, Any]:
    """The data of a `consumer.send` event, text or base64 bytes, as the page and the live proxy both take it."""
    return {"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]}


def consumer_closed(event: dict[str, Any]) -> dict[str, Any]:
    """A close, explained by who started it: a client's own code is not what Daphne sends back."""
    code, by = event["code"], event.get("by", "server")
    explanation = close_meaning(code, by)
    if by == "client":
        explanation = (
            f"you closed with code {code}: {explanation}. Daphne answers with close code 1000 (it does not echo "
            f"the client's code); the consumer's disconnect() receives {code}"
        )
    return {"type": protocol.CONSUMER_CLOSE, "client": event.get("client"), "code": code, "by": by,
            "explanation": explanation}  # fmt: skip


def consumer_rejected(event: dict[str, Any]) -> dict[str, Any]:
    """A refused handshake, with its cause when the harness knows it (no route)."""
    status = event["status"]
    explanation = close_meaning(status)
    if event.get("reason"):
        explanation = (
            f"{event['reason']}. Channels' URLRouter raises ValueError, so Daphne answers HTTP {status} and logs "
            "the exception; a browser reports only close code 1006"
        )
    return {"type": protocol.CONSUMER_REJECT, "client": event.get("client"), "status": status,
            "explanation": explanation}  # fmt: skip


def consumer_dropped(event: dict[str, Any]) -> dict[str, Any]:
    """A handshake nobody answered, dropped by the server's handshake timeout."""
    return {
        "type": protocol.CONSUMER_DROP,
        "client": event.get("client"),
        "explanation": f"{event.get('reason') or 'the handshake timed out'}; no HTTP answer, and a browser reports "
        "close code 1006. The consumer's disconnect() receives 1006",
    }


def as_is(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event)


PAGE_MESSAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    protocol.CONSUMER_ACCEPT: lambda e: {
        "type": protocol.CONSUMER_ACCEPT,
        "client": e.get("client"),
        "subprotocol": e.get("subprotocol"),
    },
    protocol.CONSUMER_SEND: lambda e: {"type": protocol.CONSUMER_SEND, "client": e.get("client"), **frame(e)},
    protocol.CONSUMER_CLOSE: consumer_closed,
    protocol.CONSUMER_REJECT: consumer_rejected,
    protocol.CONSUMER_DROP: consumer_dropped,
    protocol.OUTPUT: lambda e: {"type": protocol.OUTPUT, "text": e.get("text", "")},
    protocol.ERROR: lambda e: {
        "type": protocol.ERROR,
        "message": e.get("traceback") or e.get("message", ""),
        "line": e.get("line"),
    },
    protocol.PAUSED: as_is,
    protocol.RESUMED: as_is,
    protocol.LOADED: lambda e: {"type": protocol.STATUS, "state": "running", "reason": None},
}


def page_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The page message for a sandbox event, or None for an event the page is not told about."""
    to_page = PAGE_MESSAGES.get(event["type"])
    return to_page(event) if to_page else None
