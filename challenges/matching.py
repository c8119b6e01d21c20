"""Does a frame the consumer sent match what a step expects: exact text or bytes, a JSON subset, or a regex."""

from __future__ import annotations

import json
import re
from typing import Any

from challenges.types import Step

_MISSING = object()


def json_subset(expected: Any, got: Any) -> bool:
    """Objects match when every expected key matches (extra keys allowed); lists item by item; the rest by equality."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(json_subset(v, got.get(k, _MISSING)) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(map(json_subset, expected, got))
    if isinstance(expected, bool) or isinstance(got, bool):  # true is not 1
        return type(expected) is type(got) and expected == got
    return bool(expected == got)


def frame_matches(step: Step, frame: dict[str, Any]) -> bool:
    """A consumer.send frame against a receive step."""
    text = frame.get("text")
    if "bytes" in step.fields:
        return bool(frame.get("bytes") == step.get("bytes"))
    if text is None:
        return False
    if "text" in step.fields:
        return bool(text == step.get("text"))
    if "regex" in step.fields:
        return re.fullmatch(step.get("regex"), text) is not None
    try:
        got = json.loads(text)
    except ValueError:
        return False
    return json_subset(step.get("json"), got)


def describe(step: Step) -> dict[str, Any]:
    """The frame a step expects, in the shape of the frames it is compared with."""
    kind = {"accepted": "accept", "receive": "send", "closed": "close", "rejected": "reject", "silent": "nothing"}
    shown: dict[str, Any] = {"client": step.client, "kind": kind[step.kind]}
    shown.update({key: value for key, value in step.fields.items() if key not in ("within", "ordered", "seconds")})
    return shown
