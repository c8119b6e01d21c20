"""The unprivileged fallback (a developer laptop): bwrap in a user namespace, started by a non-root user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyseccomp

from playground.sandbox.host import envbuild
from playground.sandbox.host.options import PROJECT_ROOT
from tests.conftest import COMMAND_SECONDS

NOBODY = 65534
SCRIPT = r"""
import asyncio, json, os, sys
from playground.sandbox import SandboxLimits, SandboxOptions, run_script, start_gate

ECHO = '''
import os, resource
print("inside", os.getuid(), resource.getrlimit(resource.RLIMIT_NPROC)[0], flush=True)
from channels.generic.websocket import AsyncWebsocketConsumer
class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)
'''
FORK = '''
import os, time
count = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError as exc:
        print("refused", exc.errno, count, flush=True)
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    count += 1
''' + ECHO

async def main():
    options = SandboxOptions(env_dir=sys.argv[1])
    limits = SandboxLimits(cpu_seconds=1, lifetime_seconds=8, idle_seconds=8)
    gate = await start_gate(limits, options)
    echo = await run_script(ECHO, [{"type": "client.connect", "client": "c1", "path": "/"},
                                   {"type": "client.send", "client": "c1", "text": "laptop"}], limits, options=options)
    fork = await run_script(FORK, [], limits, options=options)
    print(json.dumps({"mode": options.mode, "uid": os.getuid(), "gate": gate.ok, "reasons": gate.reasons,
                      "echo": echo, "fork": fork}))

asyncio.run(main())
"""


def _stage(folder: Path) -> None:
    """A world-readable copy of what the unprivileged user needs: the sandbox package, pyseccomp, the env."""
    (folder / "playground").mkdir()
    (folder / "playground" / "__init__.py").write_text("")
    shutil.copytree(
        PROJECT_ROOT / "playground" / "sandbox",
        folder / "playground" / "sandbox",
        ignore=shutil.ignore_patterns("__pycache__", "*.md"),
    )
    shutil.copy(pyseccomp.__file__, folder / "pyseccomp.py")
    shutil.copytree(envbuild.DEFAULT_ENV_DIR, folder / "env", symlinks=True)
    shutil.copy(PROJECT_ROOT / "requirements.txt", folder / "requirements.txt")
    (folder / "run.py").write_text(SCRIPT)
    for dirpath, _dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


def test_userns_mode_runs_consumers_for_an_unprivileged_user():
    folder = Path(tempfile.mkdtemp(prefix="userns-test-"))
    try:
        _stage(folder)
        os.chmod(folder, 0o755)
        command = ["/usr/bin/python3", str(folder / "run.py"), str(folder / "env")]
        if os.geteuid() == 0:  # become an ordinary user, as on a developer laptop
            command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "PYTHONPATH": str(folder)}
        result = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout.splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert report["mode"] == "userns" and report["gate"], report["reasons"]
    echo = report["echo"]
    assert {"type": "consumer.send", "client": "c1", "text": "laptop"} in echo
    inside = next(e["text"] for e in echo if e["type"] == "output").split()
    assert inside == ["inside", str(report["uid"]), "32"]
    refused = next(e["text"] for e in report["fork"] if e["type"] == "output" and "refused" in e["text"]).split()
    # NPROC counts per user namespace (kernel >= 5.14): the user's processes outside do not use the sandbox's 32.
    assert refused[1] == "11" and 25 <= int(refused[2]) < 32
