"""The trace a run keeps for its Run row (the replay): at most max_events of them, all of them counted."""

from __future__ import annotations

from typing import Any

from playground.sandbox.shared.protocol import trace_row


class TraceRecorder:
    """Keeps the run's trace events up to a cap, so a runaway run cannot grow its row without bound."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self.events: list[dict[str, Any]] = []
        self.count = 0

    def record(self, event: dict[str, Any]) -> dict[str, Any]:
        """Count a sandbox `trace` event and keep it while there is room; returns it as the page shows it."""
        record = trace_row(event)
        self.count += 1
        if len(self.events) < self.max_events:
            self.events.append(record)
        return record

    @property
    def truncated(self) -> bool:
        return self.count > len(self.events)
