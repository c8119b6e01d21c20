"""A failed test's run as the step-through shows it: its trace rows, capped, and the row where it went wrong."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from challenges.grader import FRAME_KINDS, TestResult
from playground.sandbox.shared import protocol


@dataclass(frozen=True)
class KeptRun:
    """What a GradingRun row stores."""

    rows: list[dict[str, Any]]
    truncated: bool
    first_wrong_row: int | None


def frame_row(events: list[dict[str, Any]], index: int, traces: list[int]) -> int | None:
    """The trace row of the frame event at `index`: the n-th frame of its kind to a client is that client's n-th row
    of the kind (a send's row comes before its frame, an accept's after, so position alone cannot tell)."""
    event = events[index]
    kind, client = FRAME_KINDS[event["type"]], event["client"]
    ordinal = sum(
        1
        for earlier in events[:index]
        if earlier["type"] == event["type"] and earlier.get("client") == client and earlier.get("by") != "client"
    )
    rows = [n for n, at in enumerate(traces) if events[at].get("kind") == kind and events[at].get("client") == client]
    return rows[ordinal] if ordinal < len(rows) else None


def first_wrong_row(events: list[dict[str, Any]], first_wrong: int | None) -> int | None:
    """The trace row to open the step-through at: the row of the wrong frame, or else the last row before the point
    where the test stopped (what happened last before the frame that never came)."""
    traces = [index for index, event in enumerate(events) if event["type"] == protocol.TRACE]
    if first_wrong is None or not traces:
        return None
    if first_wrong < len(events) and events[first_wrong]["type"] in FRAME_KINDS:
        row = frame_row(events, first_wrong, traces)
        if row is not None:
            return row
    return max(0, bisect.bisect_left(traces, first_wrong) - 1)


def keep_run(result: TestResult, max_rows: int) -> KeptRun:
    """The test's trace rows (at most `max_rows`, like a playground Run's trace) and where it went wrong."""
    rows = [protocol.trace_row(event) for event in result.events if event["type"] == protocol.TRACE]
    wrong = first_wrong_row(result.events, result.first_wrong)
    kept = rows[:max_rows]
    if wrong is not None and wrong >= len(kept):
        wrong = len(kept) - 1 if kept else None  # beyond what is kept: open at the last row kept
    return KeptRun(kept, len(rows) > len(kept), wrong)
