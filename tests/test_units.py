"""The systemd units of deploy/: least privilege, rated by systemd-analyze, and the sandboxing capability set proved
sufficient (and each of its parts necessary) by running a real sandbox under it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import COMMAND_SECONDS, ROOT, missing_service

DEPLOY = ROOT / "deploy"
WEB_UNIT = DEPLOY / "academy-daphne@.service"
WORKER_UNIT = DEPLOY / "academy-runworker@.service"
SANDBOXING = DEPLOY / "academy-sandboxing.conf"
MOST_EXPOSURE = 4.0

SANDBOX_RUN = r"""
import asyncio, json
from playground.sandbox import SandboxLimits, SandboxOptions, run_script, start_gate

ECHO = '''
from channels.generic.websocket import AsyncWebsocketConsumer
class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data="echo " + text_data)
'''

async def main():
    options, limits = SandboxOptions(), SandboxLimits(cpu_seconds=2, lifetime_seconds=20, idle_seconds=20)
    gate = await start_gate(limits, options)
    events = []
    if gate.ok:
        ops = [{"type": "client.connect", "client": "c1", "path": "/"}, {"type": "client.send", "client": "c1", "text": "hi"}]
        events = await run_script(ECHO, ops, limits, options=options)
    print(json.dumps({"mode": options.mode, "gate": gate.ok, "reasons": gate.reasons,
                      "echoed": '"echo hi"' in json.dumps(events)}))

asyncio.run(main())
"""


def directives(text: str, name: str) -> list[str]:
    """Every value assigned to `name` in a unit file, in order."""
    return re.findall(rf"^{name}=(.*)$", text, re.M)


def exposure(unit_path) -> float:
    """systemd-analyze's overall exposure of a unit file, read offline."""
    if not shutil.which("systemd-analyze"):
        missing_service("systemd-analyze is not installed (apt-get install systemd)")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit_path)],
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


def page_mode_unit(tmp_path):
    """The Daphne unit with deploy/academy-sandboxing.conf as its drop-in, as one file (systemd merges them so)."""
    combined = tmp_path / WEB_UNIT.name
    combined.write_text(WEB_UNIT.read_text() + "\n" + SANDBOXING.read_text())
    return combined


def test_web_unit_runs_as_academy_with_no_capability_and_rates_at_most_4():
    text = WEB_UNIT.read_text()
    assert directives(text, "User") == ["academy"]
    assert directives(text, "CapabilityBoundingSet") == [""]
    assert directives(text, "NoNewPrivileges") == ["yes"]
    assert directives(text, "ProtectSystem") == ["strict"]
    assert "-b ${DAPHNE_BIND}" in directives(text, "ExecStart")[0]  # the bind address is academy.env's
    assert exposure(WEB_UNIT) <= MOST_EXPOSURE


def test_sandboxing_units_keep_only_the_bubblewrap_capabilities_and_rate_at_most_4(tmp_path):
    needed = directives(SANDBOXING.read_text(), "CapabilityBoundingSet")
    assert directives(WORKER_UNIT.read_text(), "CapabilityBoundingSet") == needed
    assert exposure(page_mode_unit(tmp_path)) <= MOST_EXPOSURE
    assert exposure(WORKER_UNIT) <= MOST_EXPOSURE


def run_sandbox_with(capabilities: list[str]) -> dict:
    """A start gate and an echo run as root whose bounding set is `capabilities`, no_new_privs, umask 077."""
    bounding = ",".join(["-all", *[f"+{cap.removeprefix('CAP_').lower()}" for cap in capabilities]])
    result = subprocess.run(
        ["setpriv", "--bounding-set", bounding, "--inh-caps", "-all", "--no-new-privs", "bash", "-c",
         'umask 077; exec "$0" -c "$1"', sys.executable, SANDBOX_RUN],
        cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_SECONDS,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"gate": False, "reasons": [result.stderr[-500:]], "echoed": False}


@pytest.mark.timeout(900)
def test_a_sandbox_runs_under_exactly_the_sandboxing_capabilities():
    if not shutil.which("setpriv") or not shutil.which("bwrap"):
        missing_service("setpriv (util-linux) and bwrap are needed")
    if os.geteuid() != 0:
        missing_service("the units' sandboxing set is for root mode; this test runs as root")
    (line,) = directives(SANDBOXING.read_text(), "CapabilityBoundingSet")
    capabilities = line.split()
    outcome = run_sandbox_with(capabilities)
    assert outcome == {"mode": "root", "gate": True, "reasons": [], "echoed": True}
    # Each of these missing stops every run (CAP_KILL only matters when a run leaves processes behind).
    for needed in ("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
        without = run_sandbox_with([cap for cap in capabilities if cap != needed])
        assert not (without["gate"] and without["echoed"]), f"runs work without {needed}: the set is too wide"
