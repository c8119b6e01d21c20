"""deploy/backup.sh: a complete, private, restorable dump of the real PostgreSQL database, old dumps pruned
(deploy/restore.sh putting one back is in tests/test_install_steps.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import time

import pytest
from django.db import connection

from tests.conftest import COMMAND_SECONDS, ROOT, database_url_for, missing_service
from tests.factories import make_user


@pytest.mark.django_db(transaction=True)
def test_backup_dumps_the_database_and_prunes_old_dumps(tmp_path):
    if connection.vendor != "postgresql":
        missing_service("the backup script dumps PostgreSQL; DATABASE_URL is not PostgreSQL")
    make_user("backed-up-learner")
    env_file = tmp_path / "academy.env"
    env_file.write_text(f"DATABASE_URL={database_url_for(connection.settings_dict)}\n")
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o755)  # a folder made before backups were private
    stale = backups / "academy-20200101T000000Z.dump"
    stale.write_bytes(b"old")
    old = time.time() - 30 * 86400
    os.utime(stale, (old, old))

    env = {**os.environ, "ACADEMY_ENV": str(env_file), "BACKUP_DIR": str(backups), "KEEP_DAYS": "14"}
    result = subprocess.run(
        ["bash", "deploy/backup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_SECONDS
    )
    assert result.returncode == 0, result.stderr
    dumps = sorted(backups.glob("academy-*.dump"))
    assert len(dumps) == 1 and dumps[0] != stale and not list(backups.glob("*.partial"))
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700  # password hashes and e-mail addresses
    assert stat.S_IMODE(dumps[0].stat().st_mode) == 0o600
    listing = subprocess.run(["pg_restore", "--list", str(dumps[0])], capture_output=True, text=True, check=True)
    assert "TABLE DATA public auth_user" in listing.stdout

    restored = subprocess.run(["pg_restore", "--data-only", "--table=auth_user", "-f", "-", str(dumps[0])],
                              capture_output=True, text=True, check=True)  # fmt: skip
    assert "backed-up-learner" in restored.stdout
