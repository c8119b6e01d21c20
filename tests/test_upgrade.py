"""deploy/README.md's upgrade, rehearsed: a `make prod-local` in workers mode runs release 1 from a git clone; release 2
adds a real migration (a new nullable column); the operator pulls it, backs up, migrates once, collects static files
and restarts the Daphne processes and the playground worker one at a time, while a client keeps asking for pages
through nginx. Not one request may fail, and a learner's run works on the upgraded processes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import COMMAND_SECONDS, ROOT, RedisServer, production_env
from tests.playground.conftest import run_starter_until_live
from tests.test_prod_local import daphne_pids, demo_password, log_in, running_prod_local, runworker_pids

pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("upgrade")]

GIT = ["git", "-c", "user.name=Release", "-c", "user.email=release@example.org", "-c", "commit.gpgsign=false"]

# What `systemctl restart academy-daphne@PORT` / `academy-runworker@N` does for prod-local's supervised processes: stop
# the old one (SIGTERM) and return once its successor runs; prod-local's supervisor starts it again, as systemd's
# Restart=always would. A worker is back when the new one says it listens (prod-local appends its log).
RESTART = """#!{python}
import os, signal, sys, time
sys.path.insert(0, {root!r})
from tests.test_prod_local import daphne_pids, runworker_pids
which, prod_dir = sys.argv[1], {prod_dir!r}
log = os.path.join(prod_dir, "runworker.log")
listening = lambda: open(log, errors="replace").read().count("Running worker for channels")
worker = which.startswith("runworker@")
old = runworker_pids(prod_dir) if worker else daphne_pids(int(which))
before = listening() if worker else 0
for pid in old:
    os.kill(pid, signal.SIGTERM)
deadline = time.monotonic() + {seconds}
while time.monotonic() < deadline:
    now = runworker_pids(prod_dir) if worker else daphne_pids(int(which))
    if not set(old) & set(now) and (not worker or (now and listening() > before)):
        break
    time.sleep(0.1)
else:
    sys.exit(f"{{which}} did not restart")
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


def git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def release_one(origin: Path) -> None:
    """The tree under test (tracked and new files as they are now) as the first commit of a release repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (origin / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, origin / name)
    git("init", "-q", "-b", "main", cwd=origin)
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "release 1", cwd=origin)


def release_two(origin: Path, work: Path) -> str:
    """Release 1 plus a nullable column on Cohort and the migration makemigrations writes for it (its name)."""
    models = origin / "cohorts" / "models.py"
    text = models.read_text()
    anchor = "    join_expires_at = models.DateTimeField(null=True, blank=True)\n"
    assert anchor in text, "the rehearsal's model change no longer applies to cohorts/models.py"
    models.write_text(text.replace(anchor, anchor + "    rehearsal_note = models.TextField(null=True, blank=True)\n"))
    made = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "cohorts", "--name", "upgrade_rehearsal"],
        cwd=origin,
        env=production_env(work / "makemigrations"),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    (migration,) = re.findall(r"cohorts/migrations/(\d{4}_upgrade_rehearsal)\.py", made.stdout)
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "release 2: a rehearsal note on cohorts", cwd=origin)
    return migration


def link_environments(checkout: Path) -> None:
    """The packages (.venv) and the playground's package folder, which `make sandbox-env` would build in place."""
    for name in (".venv", ".sandbox-env"):
        (checkout / name).symlink_to(os.path.realpath(ROOT / name))


def test_upgrade_pull_backup_migrate_once_and_rolling_restart_lose_no_request(tmp_path):
    # The checkout is world-readable, as deploy/README.md installs it: the web processes run as another user.
    checkouts = Path(tempfile.mkdtemp(prefix="academy-upgrade-"))
    checkouts.chmod(0o755)
    origin, app = checkouts / "origin", checkouts / "srv"
    origin.mkdir()
    redis_server = RedisServer()
    try:
        release_one(origin)
        git("clone", "-q", str(origin), str(app), cwd=checkouts)
        link_environments(app)
        with running_prod_local(tmp_path, redis_server.url, root=app, PLAYGROUND_EXECUTION="workers") as layout:
            upgrade_while_serving(layout, origin, app, tmp_path)
    finally:
        redis_server.stop()
        shutil.rmtree(checkouts)


def upgrade_while_serving(layout: dict, origin: Path, app: Path, work: Path) -> None:
    url, database_url, prod_dir = layout["url"], layout["database_url"], layout["dir"]
    env_file = work / "academy.env"
    env_file.write_text(f"DATABASE_URL='{database_url}'\nDAPHNE_BIND='127.0.0.1'\n")
    restart = work / "restart-process"  # not a name ending in "daphne" or "runworker", which the pid finders match
    restart.write_text(
        RESTART.format(python=sys.executable, root=str(ROOT), prod_dir=prod_dir, seconds=COMMAND_SECONDS // 2)
    )
    restart.chmod(0o700)
    processes = [*map(str, layout["daphne_ports"]), "runworker@1"]
    before = {port: daphne_pids(port) for port in layout["daphne_ports"]}
    worker_before = runworker_pids(prod_dir)
    assert worker_before, "workers mode: prod-local started a playground worker"
    migration = release_two(origin, work)

    def step(*command: str, **env: str) -> str:
        done = subprocess.run(
            command, cwd=app, env={**os.environ, **env}, capture_output=True, text=True, timeout=COMMAND_SECONDS
        )
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        return done.stdout

    manage_env = production_env(Path(prod_dir), DATABASE_URL=database_url)
    client = PageClient(url + "/lessons/")
    client.start()
    try:
        step(*GIT, "pull", "-q", "--ff-only")  # 1. code (packages unchanged: `make sandbox-env` has nothing to do)
        step("bash", "deploy/backup.sh", ACADEMY_ENV=str(env_file), BACKUP_DIR=str(work / "backups"))  # 2. backup
        migrated = step(sys.executable, "manage.py", "migrate", "--noinput", **manage_env)  # 3. migrate, once
        assert f"Applying cohorts.{migration}... OK" in migrated, migrated
        step(sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", **manage_env)  # 4. static files
        rollout = step(  # 5. one process at a time
            "bash",
            "deploy/rolling-restart.sh",
            *processes,
            ACADEMY_ENV=str(env_file),
            ACADEMY_RESTART=str(restart),
            HEALTH_SECONDS=str(COMMAND_SECONDS // 2),
        )
        assert rollout.count("restarted") == len(processes), rollout
    finally:
        client.stopped.set()
        client.join(60)
    assert client.failures == [] and client.answered > 0, client.failures

    assert list((work / "backups").glob("academy-*.dump"))
    for port, pids in before.items():
        assert daphne_pids(port) and not set(pids) & set(daphne_pids(port)), f"Daphne on {port} was not restarted"
    assert runworker_pids(prod_dir) and not set(worker_before) & set(runworker_pids(prod_dir))
    with psycopg.connect(database_url) as connection:
        (column,) = connection.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'dashboards_cohort' AND column_name = 'rehearsal_note'"
        ).fetchone()
        (applied,) = connection.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'cohorts' AND name = %s", [migration]
        ).fetchone()
    assert (column, applied) == (1, 1)
    pending = step(sys.executable, "manage.py", "showmigrations", "--plan", **manage_env)
    assert not re.search(r"^\[ \]", pending, re.M), pending

    cookie = log_in(url, "demo-learner", demo_password(layout))
    with ws_connect(
        url.replace("http", "ws") + "/ws/playground/", origin=url, additional_headers={"Cookie": cookie}
    ) as page:
        live_url = run_starter_until_live(page, "echo", timeout=60)
        with ws_connect(live_url + "ws/echo/", open_timeout=30) as external:
            external.send("after the upgrade")
            assert external.recv(timeout=30) == "after the upgrade"
