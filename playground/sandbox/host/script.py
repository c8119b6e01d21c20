"""Scripted runs without a browser: load code, feed ops in order, letting each settle, and collect every event."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from ..shared import protocol
from ..shared.limits import SandboxLimits
from .options import SandboxOptions
from .runner import Sandbox

WAIT = "wait"  # {"type": "wait", "seconds": 0.5}: a script-only op that lets timers in the consumer fire


def read_script(path: str | Path) -> list[dict[str, Any]]:
    """Ops from a JSON-lines file (blank lines and lines starting with # are skipped)."""
    ops = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            op = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(op, dict) or not isinstance(op.get("type"), str):
            raise ValueError(f"{path}:{number}: each line must be an object with a 'type'")
        ops.append(op)
    return ops


async def run_script(
    code: str,
    ops: list[dict[str, Any]],
    limits: SandboxLimits | None = None,
    timeout: float = 30.0,
    *,
    options: SandboxOptions | None = None,
    filename: str = "consumer.py",
    settle_timeout: float = 2.0,
    sandbox: Sandbox | None = None,
) -> list[dict[str, Any]]:
    """Run `code` in a fresh sandbox, apply `ops` one by one (each allowed to settle: a connect waits for
    accept/reject/error, a receive until the consumers are idle), stop, and return every event ending with `exit`."""
    events: list[dict[str, Any]] = []
    sandbox = sandbox or await Sandbox.start(limits, options)

    async def collect() -> None:
        async for event in sandbox.events():
            events.append(event)

    collector = asyncio.get_running_loop().create_task(collect())
    try:
        async with asyncio.timeout(timeout):
            await sandbox.load(code, filename)
            await sandbox.settle(settle_timeout)
            for op in ops:
                if sandbox.done or op.get("type") == protocol.STOP:
                    break
                if op.get("type") == WAIT:
                    await sandbox.wait_done(min(max(float(op.get("seconds", 0)), 0.0), timeout))
                elif problem := protocol.check_op(op, sandbox.limits.max_message_bytes):
                    client = op.get("client") if isinstance(op.get("client"), str) else None
                    await sandbox.refuse(client, problem, protocol.problem_limit(problem))
                else:
                    await sandbox.send(op)
                await sandbox.settle(settle_timeout)
    except TimeoutError:
        sandbox.finish("limit", what="time", detail=f"the script did not finish within {timeout:g} s")
    finally:
        await sandbox.stop("script finished")
        with contextlib.suppress(asyncio.CancelledError):
            await collector
    return events


def outcome(events: list[dict[str, Any]]) -> tuple[int, str]:
    """(process exit status, reason) for a scripted run: 0 normal, 1 learner error, 2 limit, 3 sandbox failure."""
    final = events[-1] if events else {"reason": "crashed", "detail": "no events"}
    reason = final.get("reason")
    if reason == "limit":
        return 2, f"limit: {final.get('what')} ({final.get('detail')})"
    if reason in ("protocol", "crashed", "start_failed"):
        return 3, f"{reason}: {final.get('detail')}"
    errors = [e for e in events if e.get("type") == protocol.ERROR and e.get("source") == "sandbox"]
    if reason == "error" or errors:
        first = errors[0] if errors else final
        line = f" (line {first.get('line')})" if first.get("line") else ""
        return 1, f"learner error: {first.get('message', final.get('detail'))}{line}"
    return 0, "stopped"
