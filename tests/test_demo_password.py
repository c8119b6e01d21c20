"""`make prod-local` hands its generated demo password to seed_demo whatever the password starts with: a generated
one starts with "-" one time in 64, and `--password -x...` made argparse stop the script (CI's exit status 2)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import COMMAND_SECONDS, ROOT, production_env

PASSWORD = "-starts-like-an-option"


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_SECONDS
    )


def test_prod_locals_seed_line_takes_a_password_that_starts_with_a_dash(tmp_path):
    script = (ROOT / "scripts" / "prod-local.sh").read_text().splitlines()
    (seed_line,) = [line for line in script if "manage.py seed_demo" in line and not line.lstrip().startswith("#")]
    (tmp_path / "demo-password").write_text(PASSWORD + "\n")
    env = production_env(tmp_path)  # DEBUG off, as prod-local runs it; SQLite in tmp_path
    assert manage(env, "migrate", "--noinput", "-v0").returncode == 0

    seeded = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", seed_line],
        cwd=ROOT,
        env={**env, "PY": sys.executable, "dir": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )

    assert seeded.returncode == 0, seeded.stderr
    check = (
        "from django.contrib.auth.models import User; "
        f"assert User.objects.get(username='demo-learner').check_password({PASSWORD!r})"
    )
    signed_in = manage(env, "shell", "-c", check)
    assert signed_in.returncode == 0, signed_in.stderr
