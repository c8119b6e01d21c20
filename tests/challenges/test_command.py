"""`manage.py grade_challenge SLUG FILE`: one JSON line per test, exit 0 / 1 / 2, hidden tests without their frames."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from challenges.loader import get_challenges
from playground.sandbox.host.options import PROJECT_ROOT
from tests.conftest import COMMAND_SECONDS
from tests.sandbox.test_command import command_env

CHALLENGE = Path("content/challenges/01-shout-echo")


def grade(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "grade_challenge", *args],
        cwd=PROJECT_ROOT,
        env=command_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


def test_the_model_solution_passes_with_exit_zero(tmp_path):
    result = grade(tmp_path, "shout-echo", str(CHALLENGE / "solution.py"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["test"] for line in lines] == [test.name for test in get_challenges().get("shout-echo").tests]
    assert all(line["passed"] and line["reason"] == "passed" for line in lines)


def test_a_wrong_solution_exits_one_and_hidden_tests_keep_their_frames(tmp_path):
    result = grade(tmp_path, "shout-echo", str(CHALLENGE / "wrong" / "unchanged.py"))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    visible = next(line for line in lines if line["test"] == "shouts a word back")
    assert visible["expected"] == {"client": "ann", "kind": "send", "text": "HELLO"}
    assert visible["got"] == {"client": "ann", "kind": "send", "text": "hello"}
    hidden = [line for line in lines if line["hidden"]]
    assert hidden and all(
        set(line) == {"test", "hidden", "passed", "reason", "seconds", "first_wrong"} for line in hidden
    )
    assert "STRASSE" not in result.stdout and "straße" not in result.stdout  # a hidden script's frames stay hidden


def test_usage_and_content_errors_exit_two(tmp_path):
    unknown = grade(tmp_path, "no-such-challenge", str(CHALLENGE / "solution.py"))
    assert unknown.returncode == 2 and "no challenge 'no-such-challenge'" in unknown.stderr
    missing = grade(tmp_path, "shout-echo", str(tmp_path / "absent.py"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_broken_challenge_content_exits_two_naming_the_problem(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    broken = content / "challenges" / "01-shout-echo" / "challenge.yaml"
    broken.write_text(broken.read_text().replace("difficulty: easy", "difficulty: extreme"))
    result = subprocess.run(
        [sys.executable, "manage.py", "grade_challenge", "shout-echo", str(CHALLENGE / "solution.py")],
        cwd=PROJECT_ROOT,
        env={**command_env(tmp_path), "ACADEMY_CONTENT_DIR": str(content)},
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert result.returncode == 2, result.stderr
    assert "01-shout-echo/challenge.yaml:3: difficulty: must be one of easy, medium, hard" in result.stderr
