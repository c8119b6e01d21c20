"""`manage.py run_consumer` end to end, with the project's settings and PLAYGROUND_LIMITS from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from playground.sandbox.host.options import PROJECT_ROOT
from tests.conftest import COMMAND_SECONDS

from .consumers import ASYNC_COUNTER, RAISES_IN_RECEIVE

# A lifetime far above the CPU limit: on a loaded machine a spinning run takes many seconds to use 1 s of CPU.
LIMITS = json.dumps({"cpu_seconds": 1, "lifetime_seconds": 60, "max_events": 500})


def command_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DATA_DIR": str(tmp_path),
        "PLAYGROUND_LIMITS": LIMITS,
    }


def run_command(tmp_path: Path, code: str, script: list[dict] | None, *extra: str) -> subprocess.CompletedProcess:
    consumer = tmp_path / "consumer.py"
    consumer.write_text(code)
    argv = [sys.executable, "manage.py", "run_consumer", str(consumer), *extra]
    if script is not None:
        (tmp_path / "script.jsonl").write_text("\n".join(json.dumps(op) for op in script) + "\n")
        argv += ["--script", str(tmp_path / "script.jsonl")]
    return subprocess.run(
        argv, cwd=PROJECT_ROOT, env=command_env(tmp_path), capture_output=True, text=True, timeout=COMMAND_SECONDS
    )


def test_run_consumer_prints_events_and_exits_zero(tmp_path):
    script = [
        {"type": "client.connect", "client": "c1", "path": "/"},
        {"type": "client.send", "client": "c1", "text": "hi"},
    ]
    result = run_command(tmp_path, ASYNC_COUNTER, script)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"type": "consumer.send", "client": "c1", "text": "1:hi"} in events
    assert events[-1]["type"] == "exit" and events[-1]["reason"] == "stopped"


def test_run_consumer_learner_error_exits_one_with_the_line(tmp_path):
    script = [
        {"type": "client.connect", "client": "c1", "path": "/"},
        {"type": "client.send", "client": "c1", "text": "two"},
    ]
    result = run_command(tmp_path, RAISES_IN_RECEIVE, script)
    assert result.returncode == 1
    assert "learner error: KeyError: 'two' (line 7)" in result.stderr


def test_run_consumer_limit_exits_two_using_playground_limits(tmp_path):
    result = run_command(tmp_path, "while True:\n    pass\n", [])
    assert result.returncode == 2 and "limit: cpu" in result.stderr


def test_run_consumer_rejects_a_bad_script(tmp_path):
    result = run_command(tmp_path, ASYNC_COUNTER, [{"type": "explode"}])
    assert result.returncode == 1 and "must be an object whose 'type' is one of" in result.stderr


def test_run_consumer_reports_an_unreadable_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "run_consumer", str(tmp_path / "nope.py")],
        cwd=PROJECT_ROOT, env=command_env(tmp_path), capture_output=True, text=True, timeout=COMMAND_SECONDS,
    )  # fmt: skip
    assert result.returncode == 1 and "cannot read" in result.stderr
