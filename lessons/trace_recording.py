"""Recording lesson traces: run a starter with its script in the sandbox and keep the trace events."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from playground.run.limits import run_limits
from playground.sandbox import run_script
from playground.sandbox.shared import protocol
from playground.sandbox_supply import sandbox_options

RECORD_TIMEOUT_SECONDS = 30.0
TRACE_FORMAT = 3  # bump when the harness changes what a trace row says, so every recorded trace turns stale


def source_hash(code: str, script: list[dict[str, Any]]) -> str:
    """Changes whenever the starter, the script or the trace format changes, which makes the recorded trace stale."""
    payload = f"{TRACE_FORMAT}\0".encode() + code.encode() + b"\0" + json.dumps(script, sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def starter_path(content_dir: Path, trace: dict[str, Any]) -> Path:
    return content_dir / "starters" / f"{trace['starter']}.py"


def is_current(content_dir: Path, trace: dict[str, Any]) -> bool:
    code = starter_path(content_dir, trace).read_text(encoding="utf-8")
    return trace.get("source_hash") == source_hash(code, trace["script"])


async def record(content_dir: Path, trace: dict[str, Any]) -> dict[str, Any]:
    """A fresh recording of one trace file's starter and script."""
    code = starter_path(content_dir, trace).read_text(encoding="utf-8")
    events = await run_script(
        code, list(trace["script"]), run_limits(), RECORD_TIMEOUT_SECONDS, options=sandbox_options()
    )
    # A learner error can be the lesson (troubleshooting traces show them); a sandbox failure or limit cannot.
    final = events[-1] if events else {}
    if final.get("reason") not in ("stopped", "error"):
        raise RuntimeError(f"recording {trace['name']} failed: {final}")
    trace_events = [protocol.trace_row(e) for e in events if e["type"] == protocol.TRACE]
    return {
        "name": trace["name"],
        "starter": trace["starter"],
        "source_hash": source_hash(code, trace["script"]),
        "script": trace["script"],
        "events": trace_events,
    }
