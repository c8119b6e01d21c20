"""The two layouts the capacity benchmark measures, started as their make targets start them.

- `make run`: migrate, seed_demo, collectstatic, then one `python -m config.serve` with the embedded defaults: DEBUG
  on (make run sets no DJANGO_DEBUG), SQLite and the in-memory channel layer (no DATABASE_URL or REDIS_URL).
- `make prod-local`: scripts/prod-local.sh itself (nginx, two Daphne processes, PostgreSQL, Redis, DEBUG off), on a
  database and a redis-server of its own, as tests/test_prod_local.py starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from harness import ROOT, daphne_args, manage, site_process

from tests.conftest import RedisServer, free_port, wait_for_http

STARTUP_SECONDS = 300  # migrate and seed_demo on an empty PostgreSQL database take minutes on a busy machine
LAYOUTS = ("run", "prod-local")


@dataclass
class Layout:
    """A running layout: where learners connect, the environment manage.py needs for its database, its process."""

    name: str
    url: str
    env: dict[str, str]
    proc: subprocess.Popen
    description: str


def base_env(data_dir: Path) -> dict[str, str]:
    """This environment without the site's settings, so each layout gets only what its make target sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(DJANGO_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    return env


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a layout started in a session of its own: the script, its supervisors, Daphne, nginx (never by name)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def make_run(work: Path) -> Iterator[Layout]:
    """What `make run` starts (its migrate prerequisites included), on a data folder of its own."""
    env = base_env(work)
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        manage(env, *step)
    port = free_port()
    proc = site_process(env, work / "daphne.log", *daphne_args(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", proc, timeout=STARTUP_SECONDS)
        yield Layout("run", url, env, proc, "`make run`: one Daphne, SQLite, in-memory channel layer, DEBUG on")
    finally:
        stop_group(proc)


@contextmanager
def prod_local(work: Path, database_server: str) -> Iterator[Layout]:
    """scripts/prod-local.sh on a database made for this run (dropped afterwards) and a redis-server of its own."""
    database = f"capacity_{os.getpid()}"
    database_url = f"{database_server.rsplit('/', 1)[0]}/{database}"
    redis = RedisServer()
    prod_dir = work / "prod"
    prod_dir.mkdir()
    # The secret key prod-local would make, made first: the sessions made for learners are signed with it.
    (prod_dir / "secret-key").write_text(os.urandom(32).hex() + "\n")
    ports = [free_port() for _ in range(3)]
    env = base_env(work)
    env.update(PORT=str(ports[0]), DAPHNE_PORTS=f"{ports[1]} {ports[2]}", PROD_LOCAL_DIR=str(prod_dir))
    env.update(DATABASE_URL=database_url, REDIS_URL=redis.url)
    with open(work / "prod-local.log", "wb") as log:
        proc = subprocess.Popen(
            ["bash", "scripts/prod-local.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{ports[0]}"
    # manage.py beside the layout (making learners' sessions) needs the settings prod-local gives its processes.
    manage_env = {
        **env,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": (prod_dir / "secret-key").read_text().strip(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DATA_DIR": str(prod_dir),
    }
    try:
        wait_for_http(url + "/healthz", proc, timeout=STARTUP_SECONDS)
        yield Layout(
            "prod-local",
            url,
            manage_env,
            proc,
            "`make prod-local`: nginx, 2 Daphne processes, PostgreSQL, Redis, DEBUG off",
        )
    finally:
        stop_group(proc)
        redis.stop()
        with psycopg.connect(f"{database_server.rsplit('/', 1)[0]}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def layout_pids(layout: Layout) -> list[int]:
    """Every process of the layout's session (script, supervisors, Daphne, nginx, sandboxes), for CPU accounting."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == layout.proc.pid:  # field 6 of stat, the session id
                pids.append(int(entry.name))
    return pids
