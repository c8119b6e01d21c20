"""deploy/backup.sh: a complete, restorable dump of the real PostgreSQL database, old dumps pruned."""

from __future__ import annotations

import os
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
    backups.mkdir()
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
    listing = subprocess.run(["pg_restore", "--list", str(dumps[0])], capture_output=True, text=True, check=True)
    assert "TABLE DATA public auth_user" in listing.stdout

    restored = subprocess.run(["pg_restore", "--data-only", "--table=auth_user", "-f", "-", str(dumps[0])],
                              capture_output=True, text=True, check=True)  # fmt: skip
    assert "backed-up-learner" in restored.stdout
