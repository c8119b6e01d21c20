"""Trace files in content/traces/: recorded runs that the execution mode renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lessons.catalogue.errors import ContentError
from lessons.catalogue.types import Trace
from playground.sandbox.shared import protocol

# A row needs every field of protocol.TRACE_FIELDS the harness always writes (only notes carry a topic).
REQUIRED_FIELDS = tuple(name for name in protocol.TRACE_FIELDS if name != "topic")
# The harness's own vocabulary, so a recorded trace is valid exactly when the harness could have written it.
EVENT_KINDS = frozenset(protocol.TRACE_KINDS)
STATES = frozenset(protocol.STATES)


def _check_event(event: Any, index: int, path: Path, errors: list[ContentError]) -> None:
    field = f"events[{index}]"
    if not isinstance(event, dict):
        errors.append(ContentError(path, 0, field, "must be an object"))
        return
    missing = [name for name in REQUIRED_FIELDS if name not in event]
    if missing:
        errors.append(ContentError(path, 0, field, f"missing {', '.join(missing)}"))
        return
    if event["kind"] not in EVENT_KINDS:
        errors.append(ContentError(path, 0, f"{field}.kind", f"unknown kind {event['kind']!r}"))
    if event["state"] not in STATES:
        errors.append(ContentError(path, 0, f"{field}.state", f"unknown state {event['state']!r}"))
    if not isinstance(event["vars"], dict):
        errors.append(ContentError(path, 0, f"{field}.vars", "must be an object of name to repr"))
    if not isinstance(event["groups"], list):
        errors.append(ContentError(path, 0, f"{field}.groups", "must be a list"))


def load_trace(path: Path, display_path: Path, errors: list[ContentError]) -> Trace | None:
    """Parse and check one trace file; problems are appended to errors."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        errors.append(ContentError(display_path, 0, "", f"cannot be read: {exc}"))
        return None
    except json.JSONDecodeError as exc:
        errors.append(ContentError(display_path, exc.lineno, "", f"invalid JSON: {exc.msg}"))
        return None
    if not isinstance(data, dict):
        errors.append(ContentError(display_path, 1, "", "must be a JSON object"))
        return None
    before = len(errors)
    for key, kind in (("name", str), ("starter", str), ("script", list), ("events", list), ("source_hash", str)):
        if key == "source_hash" and key not in data:
            continue  # hand-written traces have none until `manage.py record_traces` runs
        if not isinstance(data.get(key), kind):
            errors.append(ContentError(display_path, 0, key, f"must be a {kind.__name__}"))
    if len(errors) > before:
        return None
    if not data["events"]:
        errors.append(ContentError(display_path, 0, "events", "a trace needs at least one event"))
    for index, event in enumerate(data["events"]):
        _check_event(event, index, display_path, errors)
    if len(errors) > before:
        return None
    return Trace(name=data["name"], starter=data["starter"], script=tuple(data["script"]), events=tuple(data["events"]))
