"""deploy/README.md's install steps, run here from deploy/academy.env.example as an operator fills it in."""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import COMMAND_SECONDS, ROOT

EXAMPLE = ROOT / "deploy" / "academy.env.example"
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
pytestmark = pytest.mark.timeout(600)


def example_names() -> list[str]:
    """Every variable the example assigns, in file order."""
    return [match.group(1) for line in EXAMPLE.read_text().splitlines() if (match := ASSIGNMENT.match(line))]


def sourced(env_file, command: str = "env -0", **extra: str) -> subprocess.CompletedProcess:
    """Run `command` in bash after loading env_file the documented way, with unset variables an error."""
    script = f'set -euo pipefail; set -a; . "{env_file}"; set +a; {command}'
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **extra}
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_SECONDS
    )


def fill_in(tmp_path, **values: str):
    """The example with some values replaced, as step 4 tells the operator to; each name must already be there."""
    lines = EXAMPLE.read_text().splitlines()
    for name, value in values.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        lines[index] = f"{name}='{value}'"
    env_file = tmp_path / "academy.env"
    env_file.write_text("\n".join(lines) + "\n")
    env_file.chmod(0o600)
    return env_file


def test_env_example_sources_every_variable_in_bash_with_set_u():
    result = sourced(EXAMPLE)
    assert result.returncode == 0, result.stderr
    loaded = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    missing = [name for name in example_names() if name not in loaded]
    assert not missing, f"not set after sourcing: {missing}"
    assert loaded["DJANGO_DEFAULT_FROM_EMAIL"] == "Channels Academy <noreply@academy.example.org>"
    assert loaded["PLAYGROUND_EXECUTION"] == "page"  # the line after the one that used to break sourcing


@pytest.fixture
def fresh_database(postgres_admin_url):
    """An empty PostgreSQL database of its own (as step 3 creates), dropped afterwards."""
    name = f"install_steps_{os.getpid()}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_install_steps_backup_and_restore_run_from_the_filled_in_env_example(tmp_path, fresh_database, redis_url):
    env_file = fill_in(
        tmp_path,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # the command step 4 gives
        DATABASE_URL=fresh_database,
        REDIS_URL=redis_url,
        DJANGO_DATA_DIR=str(tmp_path / "data"),
    )
    python = f"{sys.executable} manage.py"
    step5 = " && ".join(
        [
            f"{python} check --deploy --fail-level WARNING",
            f"{python} migrate --noinput -v0",
            f"{python} collectstatic --noinput -v0",
            f"{python} createsuperuser --noinput --username operator --email operator@example.org",
            f"{python} make_instructor operator",
        ]
    )
    result = sourced(env_file, step5, DJANGO_SUPERUSER_PASSWORD="operator-" + secrets.token_urlsafe(12))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "operator is now an instructor." in result.stdout
    assert (tmp_path / "data" / "static" / "css" / "site.css").exists()

    backups = tmp_path / "backups"
    result = subprocess.run(
        ["bash", "deploy/backup.sh"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "ACADEMY_ENV": str(env_file), "BACKUP_DIR": str(backups)},
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    (dump,) = backups.glob("academy-*.dump")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600

    with psycopg.connect(fresh_database, autocommit=True) as db:
        db.execute("DELETE FROM auth_user_groups")
        db.execute("DELETE FROM auth_user")
    result = subprocess.run(
        ["bash", "deploy/restore.sh", str(dump)],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "ACADEMY_ENV": str(env_file)},
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    with psycopg.connect(fresh_database) as db:
        rows = db.execute(
            "SELECT u.username, g.name FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id "
            "JOIN auth_group g ON g.id = ug.group_id"
        ).fetchall()
    assert rows == [("operator", "instructors")]
