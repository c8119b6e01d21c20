"""Turns a trace into the execution table and variable tracker that lessons and replays render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lessons.catalogue.types import Trace
from playground.sandbox.shared.protocol import STATE_LABELS
from playground.starters import all_starters


@dataclass(frozen=True)
class TrackerCell:
    value: str
    changed: bool


@dataclass(frozen=True)
class TrackerRow:
    """One variable across every step."""

    client: str
    name: str
    cells: tuple[TrackerCell, ...]


@dataclass(frozen=True)
class ExecutionView:
    rows: tuple[dict[str, Any], ...]
    steps: tuple[int, ...]
    tracker: tuple[TrackerRow, ...]


def build_execution_view(events: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> ExecutionView:
    """Rows in step order; tracker rows are each client's connection state, then its variables in first-seen order."""
    ordered = sorted(events, key=lambda event: event["step"])
    keys: list[tuple[str, str]] = []
    for event in ordered:
        client = event.get("client") or "-"
        for key in [(client, "connection_state"), *((client, name) for name in event.get("vars", {}))]:
            if key not in keys:
                keys.append(key)
    current: dict[tuple[str, str], str] = {}
    columns: list[dict[tuple[str, str], TrackerCell]] = []
    for event in ordered:
        client = event.get("client") or "-"
        updates = {(client, "connection_state"): STATE_LABELS.get(event["state"], event["state"])}
        updates.update({(client, name): str(value) for name, value in event.get("vars", {}).items()})
        column = {}
        for key in keys:
            before = current.get(key)
            if key in updates:
                current[key] = updates[key]
            value = current.get(key, "")
            column[key] = TrackerCell(value=value, changed=key in updates and value != before and before is not None)
        columns.append(column)
    tracker = tuple(
        TrackerRow(client=client, name=name, cells=tuple(column[(client, name)] for column in columns))
        for client, name in keys
    )
    return ExecutionView(rows=tuple(ordered), steps=tuple(event["step"] for event in ordered), tracker=tracker)


def trace_source(trace: Trace) -> str:
    """The code the trace recorded (its starter), which the step-through shows beside the steps; "" if it is gone."""
    starter = all_starters().get(trace.starter)
    return starter.code if starter else ""
