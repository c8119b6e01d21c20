"""Two machines on one: a web machine and a playground-worker machine as network namespaces, each reaching Redis and
PostgreSQL only over its own link's addresses, nginx in front; a learner's code runs end to end on the worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import (
    COMMAND_SECONDS,
    ROOT,
    free_port,
    missing_service,
    production_env,
    stop_process,
    wait_for_http,
)
from tests.playground.conftest import run_starter_until_live
from tests.test_prod_local import log_in

pytestmark = pytest.mark.timeout(900)
REDIS_PASSWORD = "two-machines-redis"
NET = f"10.{100 + os.getpid() % 100}"  # one /16 per test process, so two runs on one machine do not collide


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Machine:
    """A network namespace joined to this host by a veth link: the host is NET.N.1, the machine NET.N.2."""

    def __init__(self, name: str, number: int) -> None:
        self.name, self.host_side = f"{name}{os.getpid()}", f"vac{number}x{os.getpid()}"[:15]
        self.gateway, self.address = f"{NET}.{number}.1", f"{NET}.{number}.2"
        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.host_side, "type", "veth", "peer", "name", "eth0", "netns", self.name)
        except subprocess.CalledProcessError:
            self.remove()
            raise
        ip("addr", "add", f"{self.gateway}/24", "dev", self.host_side)
        ip("link", "set", self.host_side, "up")
        ip("-n", self.name, "addr", "add", f"{self.address}/24", "dev", "eth0")
        ip("-n", self.name, "link", "set", "eth0", "up")
        ip("-n", self.name, "link", "set", "lo", "up")

    def run(self, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        """Start a process on this machine (in its namespace), logging to `log`."""
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def pids(self) -> set[int]:
        out = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True, timeout=30).stdout
        return {int(pid) for pid in out.split()}

    def remove(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_side], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def machines():
    if os.geteuid() != 0 or not shutil.which("ip"):
        missing_service("network namespaces need root and iproute2")
    made: list[Machine] = []
    try:
        for name, number in (("acweb", 1), ("acwork", 2)):
            made.append(Machine(name, number))
        yield made
    finally:
        for machine in made:
            machine.remove()


@pytest.fixture
def services(machines):
    """A PostgreSQL cluster and a Redis of their own, listening only on the two links' host addresses."""
    bindir = max(Path("/usr/lib/postgresql").glob("*/bin"), default=None)
    if not bindir or not shutil.which("redis-server"):
        missing_service("PostgreSQL server binaries and redis-server are needed")
    listen = [machine.gateway for machine in machines]
    folder = Path(tempfile.mkdtemp(prefix="two-machines-pg-"))
    shutil.chown(folder, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, f"{bindir}/initdb", "-D", f"{folder}/data", "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    with open(folder / "data" / "pg_hba.conf", "a") as hba:  # the two machines' links (trust: a throwaway cluster)
        hba.write(f"host all all {NET}.0.0/16 trust\n")
    pg_port, redis_port = free_port(), free_port()
    postgres = subprocess.Popen(
        [*as_postgres, f"{bindir}/postgres", "-D", f"{folder}/data", "-p", str(pg_port), "-k", str(folder),
         "-c", f"listen_addresses={','.join(listen)}", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    redis = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            *listen,
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
        ],  # Redis refuses other machines without one (protected mode)
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(f"postgres://postgres@{listen[0]}:{pg_port}/postgres", autocommit=True) as db:
                    db.execute("CREATE DATABASE academy")
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline, "the private PostgreSQL did not start"
                time.sleep(0.2)
        yield {"pg_port": pg_port, "redis_port": redis_port}
    finally:
        stop_process(redis)
        stop_process(postgres)
        shutil.rmtree(folder, ignore_errors=True)


def test_web_and_worker_on_two_machines_run_a_learners_code_through_nginx(
    machines, services, collected_static, tmp_path
):
    web, worker = machines
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_bin).exists():
        missing_service("nginx is not installed")

    def machine_env(machine: Machine) -> dict[str, str]:
        """academy.env as each machine has it: the same settings, Redis and PostgreSQL at its own link's address."""
        return production_env(
            collected_static,
            DATABASE_URL=f"postgres://postgres@{machine.gateway}:{services['pg_port']}/academy",
            REDIS_URL=f"redis://:{REDIS_PASSWORD}@{machine.gateway}:{services['redis_port']}/0",
            PLAYGROUND_EXECUTION="workers",
            DJANGO_BEHIND_PROXY="1",
            DJANGO_TRUSTED_PROXIES=web.gateway,  # nginx, as the web machine sees it
        )

    setup = machine_env(web)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=setup, check=True,
                   timeout=600)  # fmt: skip
    create = (
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user('far-learner', password='two-machines-pw')"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", create], cwd=ROOT, env=setup, check=True, timeout=COMMAND_SECONDS
    )

    daphne_port, nginx_port = free_port(), free_port()
    processes = [
        web.run([sys.executable, "-m", "config.serve", "-b", web.address, "-p", str(daphne_port), "config.asgi:application"],
                machine_env(web), tmp_path / "daphne.log"),
        worker.run([sys.executable, "manage.py", "runworker", "playground-runs"], machine_env(worker),
                   tmp_path / "runworker.log"),
    ]  # fmt: skip
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    site = subprocess.run(
        ["bash", "deploy/render-nginx.sh", f"listen 127.0.0.1:{nginx_port};", "localhost",
         str(collected_static / "static"), f"{web.address}:{daphne_port}"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    temps = "".join(f"  {t}_temp_path {nginx_dir}/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (nginx_dir / "nginx.conf").write_text(
        f"worker_processes 1;\npid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/error.log warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n  include /etc/nginx/mime.types;\n"
        f"  access_log {nginx_dir}/access.log;\n{temps}{site}}}\n"
    )
    processes.append(
        subprocess.Popen([nginx_bin, "-c", f"{nginx_dir}/nginx.conf", "-p", str(nginx_dir), "-g", "daemon off;"])
    )
    url = f"http://127.0.0.1:{nginx_port}"
    try:
        # Through nginx, to the web machine; /livez, since polling /accounts/ would spend nginx's sign-in rate limit
        # (60 a minute per address) while Daphne starts, and the sign-in below would then get 429.
        wait_for_http(url + "/livez", processes[0])
        deadline = time.monotonic() + 120
        while "Running worker for channels" not in (tmp_path / "runworker.log").read_text(errors="replace"):
            assert processes[1].poll() is None and time.monotonic() < deadline, (tmp_path / "runworker.log").read_text()
            time.sleep(0.2)

        cookie = log_in(url, "far-learner", "two-machines-pw")
        with ws_connect(url.replace("http", "ws") + "/ws/playground/", origin=url,
                        additional_headers={"Cookie": cookie}, open_timeout=30) as page:  # fmt: skip
            live_url = run_starter_until_live(page, "echo", timeout=60)
            assert live_url.startswith(url.replace("http", "ws") + "/ws/live/")
            sandboxes = [pid for pid in worker.pids() if "bwrap" in command_of(pid)]
            assert sandboxes, "the learner's code is not running on the worker machine"
            assert not [pid for pid in web.pids() if "bwrap" in command_of(pid)]
            with ws_connect(live_url + "ws/echo/", open_timeout=30) as external:
                external.send("across two machines")
                assert external.recv(timeout=30) == "across two machines"
        # The machines reach each other only through Redis and PostgreSQL: no route from the worker to the web.
        probe = subprocess.run(
            ["ip", "netns", "exec", worker.name, sys.executable, "-c",
             f"import socket; socket.create_connection(('{web.address}', {daphne_port}), timeout=3)"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert probe.returncode != 0
    finally:
        for proc in reversed(processes):
            stop_process(proc)
