"""The start gate: deny probes run inside a real sandbox at boot; any probe that succeeds refuses all runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..shared.limits import SandboxLimits
from .launch import SandboxStartError, prerequisite_problems
from .options import PROJECT_ROOT, SandboxOptions
from .runner import Sandbox

CANARY_ENV = "CHANNELS_ACADEMY_GATE_CANARY"
EXPECTED_PROBES = (
    "net_loopback", "net_internet", "dns", "host_shadow", "host_passwd", "canary_file", "project_settings",
    "environment", "proc_environ", "unprivileged", "capabilities",
)  # fmt: skip
PROBE_CODE = r"""
import json, os, socket
CANARY = {canary!r}

def report(name, denied, detail=""):
    print("GATE " + json.dumps({{"probe": name, "denied": bool(denied), "detail": str(detail)[:200]}}), flush=True)

def attempt(name, action):
    try:
        result = action()
    except Exception as exc:
        report(name, True, type(exc).__name__ + ": " + str(exc))
    else:
        report(name, False, repr(result))

def read(path):
    with open(path, "rb") as handle:
        return handle.read(64)

attempt("net_loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1).close())
attempt("net_internet", lambda: socket.create_connection(("1.1.1.1", 80), timeout=1).close())
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("host_shadow", lambda: read("/etc/shadow"))
attempt("host_passwd", lambda: read("/etc/passwd"))
attempt("canary_file", lambda: read({canary_path!r}))
attempt("project_settings", lambda: read({settings_path!r}))
hits = [key for key, value in os.environ.items() if CANARY in value]
report("environment", not hits, hits)
hits = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open("/proc/%s/environ" % pid, "rb") as handle:
                if CANARY.encode() in handle.read():
                    hits.append(pid)
        except OSError:
            pass
report("proc_environ", not hits, hits)
report("unprivileged", os.getuid() != 0 and os.geteuid() != 0, os.getuid())
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
report("capabilities", int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, status["CapEff"].strip())
print("GATE-END", flush=True)

from channels.generic.websocket import AsyncWebsocketConsumer

class GateProbeConsumer(AsyncWebsocketConsumer):
    pass
"""


@dataclass
class GateResult:
    """Outcome of the start gate: `ok` False means the playground must refuse every run; `reasons` say why."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    probes: dict[str, bool] = field(default_factory=dict)  # probe name -> denied
    mode: str = ""
    sandboxed: bool = True


async def start_gate(
    limits: SandboxLimits | None = None, options: SandboxOptions | None = None, timeout: float = 20.0
) -> GateResult:
    """Check prerequisites, then run the deny probes in a sandbox with a canary in os.environ and in a host file."""
    options = options or SandboxOptions()
    limits = (limits or SandboxLimits()).replace(lifetime_seconds=timeout, idle_seconds=timeout)
    problems = prerequisite_problems(options)
    if problems:
        return GateResult(False, problems, mode=options.mode)
    if options.mode == "development":
        reason = "unsandboxed development mode: learner code runs without isolation; deny probes skipped"
        return GateResult(True, [reason], mode="development", sandboxed=False)
    return await run_deny_probes(limits, options, timeout)


async def run_deny_probes(limits: SandboxLimits, options: SandboxOptions, timeout: float) -> GateResult:
    """The probes themselves, in whatever mode `options` selects (tests run them unsandboxed to see them fail)."""
    canary = secrets.token_hex(16)
    folder, canary_path = await asyncio.to_thread(_plant_canary_file, canary)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    previous = os.environ.get(CANARY_ENV)
    os.environ[CANARY_ENV] = canary
    try:
        code = PROBE_CODE.format(
            canary=canary,
            port=listener.getsockname()[1],
            canary_path=canary_path,
            settings_path=str(PROJECT_ROOT / "config" / "settings.py"),
        )
        events = await _run_probes(code, limits, options, timeout)
    except SandboxStartError as exc:
        return GateResult(False, [str(exc)], mode=options.mode)
    finally:
        if previous is None:
            os.environ.pop(CANARY_ENV, None)
        else:
            os.environ[CANARY_ENV] = previous
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)
    return _judge(events, canary, options.mode)


def _plant_canary_file(canary: str) -> tuple[str, str]:
    """A world-readable host file holding the canary: only the sandbox's missing bind may keep it out."""
    folder = tempfile.mkdtemp(prefix="channels-academy-gate-")
    canary_path = os.path.join(folder, "canary.txt")
    Path(canary_path).write_text(canary, encoding="utf-8")
    os.chmod(folder, 0o755)
    os.chmod(canary_path, 0o644)
    return folder, canary_path


async def _run_probes(
    code: str, limits: SandboxLimits, options: SandboxOptions, timeout: float
) -> list[dict[str, Any]]:
    """Load the probe module and collect events until it prints GATE-END (or the run ends)."""
    sandbox = await Sandbox.start(limits, options)
    events: list[dict[str, Any]] = []
    output = ""
    try:
        async with asyncio.timeout(timeout):
            await sandbox.load(code, "gate_probes.py")
            async for event in sandbox.events():
                events.append(event)
                if event.get("type") == "output":
                    output += event.get("text", "")
                    if "GATE-END" in output:
                        break
    except TimeoutError:
        events.append({"type": "exit", "reason": "limit", "what": "time", "detail": "probes timed out"})
    finally:
        await sandbox.stop("gate finished")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                async for event in sandbox.events():
                    events.append(event)
    return events


def _judge(events: list[dict[str, Any]], canary: str, mode: str) -> GateResult:
    """Every expected probe reported and denied, and the canary appears nowhere in what came out."""
    reasons: list[str] = []
    probes: dict[str, bool] = {}
    output = "".join(e.get("text", "") for e in events if e.get("type") == "output")
    for line in output.splitlines():
        if line.startswith("GATE {"):
            record = json.loads(line[5:])
            probes[record["probe"]] = record["denied"]
            if not record["denied"]:
                reasons.append(f"deny probe {record['probe']} SUCCEEDED inside the sandbox: {record['detail']}")
    for name in EXPECTED_PROBES:
        if name not in probes:
            reasons.append(f"deny probe {name} did not report")
    if canary in json.dumps(events):
        reasons.append("the canary secret appeared in the sandbox's output")
    errors = [e.get("message", "") for e in events if e.get("type") == "error"]
    if errors:
        reasons.append(f"the probe module failed: {errors[0][:300]}")
    return GateResult(not reasons, reasons, probes, mode=mode)
