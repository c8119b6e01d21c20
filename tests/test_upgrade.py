"""deploy/README.md's upgrade, rehearsed on a running `make prod-local`: backup, migrate once, rolling restart, while
a client keeps asking for pages through nginx; not one request may fail."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import ROOT, production_env
from tests.playground.conftest import run_starter_until_live
from tests.test_prod_local import daphne_pids, log_in, prod_local  # noqa: F401 (the fixture)

pytestmark = pytest.mark.timeout(900)

# What `systemctl restart academy-daphne@PORT` does for prod-local's supervised Daphne: stop it (SIGTERM), return once
# it is gone; prod-local's supervisor starts it again, as systemd's Restart=always would.
RESTART = """#!{python}
import os, signal, sys, time
sys.path.insert(0, {root!r})
from tests.test_prod_local import daphne_pids
port = int(sys.argv[1])
old = daphne_pids(port)
for pid in old:
    os.kill(pid, signal.SIGTERM)
deadline = time.monotonic() + 30
while set(old) & set(daphne_pids(port)) and time.monotonic() < deadline:
    time.sleep(0.1)
"""


class PageClient(threading.Thread):
    """Asks nginx for a page, again and again, until stopped; keeps every answer that was not a 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopped = url, threading.Event()
        self.answered, self.failures = 0, []

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    response.read()
                    self.answered += 1
            except (urllib.error.URLError, OSError) as exc:
                self.failures.append(repr(exc))


def test_upgrade_backup_migrate_once_and_rolling_restart_lose_no_request(prod_local, tmp_path):  # noqa: F811
    url = prod_local["url"]
    database_url = prod_local["database_url"]
    env_file = tmp_path / "academy.env"
    env_file.write_text(f"DATABASE_URL='{database_url}'\nDAPHNE_BIND='127.0.0.1'\n")
    restart = tmp_path / "restart-port"  # not a name ending in "daphne", which daphne_pids would match
    restart.write_text(RESTART.format(python=sys.executable, root=str(ROOT)))
    restart.chmod(0o700)
    before = {port: daphne_pids(port) for port in prod_local["daphne_ports"]}

    client = PageClient(url + "/lessons/")
    client.start()
    try:
        backup = subprocess.run(
            ["bash", "deploy/backup.sh"],
            cwd=ROOT,
            env={**os.environ, "ACADEMY_ENV": str(env_file), "BACKUP_DIR": str(tmp_path / "backups")},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert backup.returncode == 0, backup.stderr
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=production_env(Path(prod_local["dir"]), DATABASE_URL=database_url),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        rollout = subprocess.run(
            ["bash", "deploy/rolling-restart.sh", *map(str, prod_local["daphne_ports"])],
            cwd=ROOT,
            env={**os.environ, "ACADEMY_ENV": str(env_file), "ACADEMY_RESTART": str(restart), "HEALTH_SECONDS": "300"},
            capture_output=True,
            text=True,
            timeout=700,
        )
        assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    finally:
        client.stopped.set()
        client.join(60)
    assert list((tmp_path / "backups").glob("academy-*.dump"))
    for port, pids in before.items():
        assert daphne_pids(port) and not set(pids) & set(daphne_pids(port)), f"Daphne on {port} was not restarted"
    assert client.failures == [] and client.answered > 0

    cookie = log_in(url, "demo-learner", (Path(prod_local["dir"]) / "demo-password").read_text().strip())
    with ws_connect(
        url.replace("http", "ws") + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}
    ) as page:
        live_url = run_starter_until_live(page, "echo", timeout=60)
        with ws_connect(live_url + "ws/echo/", open_timeout=30) as external:
            external.send("after the upgrade")
            assert external.recv(timeout=30) == "after the upgrade"
