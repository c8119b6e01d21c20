"""What the challenge pages show: result rows with their frame diffs, and test scripts in words."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from challenges.models import GradingRun, Submission
from challenges.types import Step

FRAME_FIELDS = ("text", "json", "regex", "bytes", "subprotocol", "code", "status")
_LEADING_H1 = re.compile(r"^\s*<h1\b[^>]*>.*?</h1>\s*", re.S)
_HEADING_TAG = re.compile(r"<(/?)h([1-5])\b")


def brief_body(brief_html: str) -> str:
    """The brief under the page's own "The brief" heading: its title (the page's h1 already) dropped, and every other
    heading one level down."""
    body = _LEADING_H1.sub("", brief_html, count=1)
    return _HEADING_TAG.sub(lambda match: f"<{match[1]}h{int(match[2]) + 1}", body)


@dataclass(frozen=True)
class Segment:
    """A piece of a frame's text; `changed` pieces differ from the frame it is compared with."""

    text: str
    changed: bool


@dataclass(frozen=True)
class ResultRow:
    position: int
    name: str
    hidden: bool
    passed: bool
    reason: str
    seconds: float
    expected: list[Segment] | None
    got: list[Segment] | None
    run_id: int | None  # the GradingRun to step through, for a failed test


def frame_text(frame: dict[str, Any] | None) -> str:
    """A frame in one line, e.g. `send to ann: text "HELLO"`."""
    if frame is None:
        return "nothing"
    parts = [f"{frame.get('kind')} {'from' if frame.get('kind') == 'reject' else 'to'} {frame.get('client')}"]
    details = [f"{key} {json.dumps(frame[key], ensure_ascii=False)}" for key in FRAME_FIELDS if key in frame]
    return parts[0] + (": " + ", ".join(details) if details else "")


def frame_diff(expected: dict[str, Any] | None, got: dict[str, Any] | None) -> tuple[list[Segment], list[Segment]]:
    """Both frames as text, with the characters each has and the other lacks marked as changed."""
    left, right = frame_text(expected), frame_text(got)
    ours: list[Segment] = []
    theirs: list[Segment] = []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if a2 > a1:
            ours.append(Segment(left[a1:a2], tag != "equal"))
        if b2 > b1:
            theirs.append(Segment(right[b1:b2], tag != "equal"))
    return ours, theirs


def result_rows(submission: Submission) -> list[ResultRow]:
    """One row per test of a finished grading; hidden tests carry name, verdict, reason and time only."""
    runs = dict(GradingRun.objects.filter(submission=submission).values_list("position", "pk"))
    rows = []
    for position, result in enumerate(submission.results):
        expected = got = None
        if not result["hidden"] and not result["passed"] and (result.get("expected") or result.get("got")):
            expected, got = frame_diff(result.get("expected"), result.get("got"))
        rows.append(
            ResultRow(
                position=position,
                name=result["test"],
                hidden=result["hidden"],
                passed=result["passed"],
                reason=result["reason"],
                seconds=result["seconds"],
                expected=expected,
                got=got,
                run_id=runs.get(position),
            )
        )
    return rows


def step_text(step: Step) -> str:
    """A visible test's step in words, e.g. `ann sends text "hi"` or `expect ann to receive text "HI"`."""
    fields = ", ".join(f"{key} {json.dumps(value, ensure_ascii=False)}" for key, value in step.fields.items())
    with_fields = f" ({fields})" if fields else ""
    client = step.client
    return {
        "connect": f"{client} connects{with_fields}",
        "send": f"{client} sends{with_fields}",
        "close": f"{client} closes{with_fields}",
        "accepted": f"expect {client} to be accepted{with_fields}",
        "receive": f"expect {client} to receive{with_fields}",
        "closed": f"expect {client} to be closed{with_fields}",
        "rejected": f"expect {client}'s handshake to be refused{with_fields}",
        "silent": f"expect {client} to get nothing{with_fields}",
    }[step.kind]
