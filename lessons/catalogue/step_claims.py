"""Claims an execution page makes about its recorded trace, written as `{step 3: state=open, code=1000}` markers:
rendered as plain text, and checked against the trace so a lesson cannot contradict the run it explains."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from playground.sandbox.shared.protocol import STATE_LABELS

MARKER = re.compile(r"\{step (?P<step>\d+): (?P<claims>[^{}\n]+)\}")
CLAIM = re.compile(r"^\s*(?P<key>[a-z_][\w.]*)\s*=\s*(?P<value>.+?)\s*$")
ROW_FIELDS = ("kind", "client", "method", "line")  # a row field, compared as text
# Where a row says a close code or an HTTP status: `close(code=4009)`, `(code 1000)`, `HTTP 403`.
CODE = re.compile(r"\bcode[ =](?P<code>\d{4})\b")
STATUS = re.compile(r"\bHTTP (?P<status>\d{3})\b")


def render(text: str) -> str:
    """Each marker as the words a reader sees: `{step 1: state=none}` -> `(step 1: state None)`."""

    def words(found: re.Match[str]) -> str:
        parts = []
        for claim in found["claims"].split(","):
            parsed = CLAIM.match(claim)
            if parsed is None:
                parts.append(claim.strip())
                continue
            key, value = parsed["key"], parsed["value"]
            if key == "state":
                parts.append(f"state {STATE_LABELS.get(value, value)}")
            elif key == "code":
                parts.append(f"close code {value}")
            elif key == "status":
                parts.append(f"HTTP {value}")
            else:
                parts.append(f"{key} {value}")
        return f"(step {found['step']}: {', '.join(parts)})"

    return MARKER.sub(words, text)


def row_value(row: Mapping[str, Any], key: str) -> str | None:
    """What the recorded row says for `key`; None when it says nothing about it."""
    if key == "state":
        return str(row["state"])
    if key in ROW_FIELDS:
        return None if row.get(key) is None else str(row[key])
    words = " ".join(str(row.get(name, "")) for name in ("action", "evaluation", "result"))
    if key == "code":
        found = CODE.search(words)
        return found["code"] if found else None
    if key == "status":
        found = STATUS.search(words)
        return found["status"] if found else None
    value = row.get("vars", {}).get(key)
    return None if value is None else str(value)


def check(text: str, events: Iterable[Mapping[str, Any]]) -> list[tuple[int, str]]:
    """(line, problem) for each marker that the recorded trace contradicts, or that names no recorded step."""
    rows = {int(row["step"]): row for row in events}
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for found in MARKER.finditer(line):
            step = int(found["step"])
            row = rows.get(step)
            if row is None:
                problems.append((number, f"step {step} is not in the recorded trace"))
                continue
            for claim in found["claims"].split(","):
                parsed = CLAIM.match(claim)
                if parsed is None:
                    problems.append((number, f"step {step}: {claim.strip()!r} is not a key=value claim"))
                    continue
                key, claimed = parsed["key"], parsed["value"]
                recorded = row_value(row, key)
                if recorded != claimed:
                    problems.append(
                        (number, f"step {step} claims {key}={claimed}, but the recorded trace has {recorded}")
                    )
    return problems
