"""The page's side of the playground socket, shared by the tests and the benchmarks (no Django needed)."""

from __future__ import annotations


def unbatch(message: dict) -> list[dict]:
    """The page messages in one WebSocket message: a `batch` envelope holds several, in order."""
    return message["messages"] if message["type"] == "batch" else [message]
