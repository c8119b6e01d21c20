"""The systemd units of deploy/: least privilege, rated by systemd-analyze, the sandboxing capability set proved
sufficient (and each of its parts necessary) by running a real sandbox under it, and the units started by a real
systemd (pid 1 of namespaces of its own, since this machine's pid 1 is not systemd)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import COMMAND_SECONDS, HEALTHZ_TOKEN, ROOT, RedisServer, free_port, missing_service
from tests.test_prod_local import CAPABILITY_BITS

DEPLOY = ROOT / "deploy"
WEB_UNIT = DEPLOY / "academy-daphne@.service"
WORKER_UNIT = DEPLOY / "academy-runworker@.service"
SANDBOXING = DEPLOY / "academy-sandboxing.conf"
MOST_EXPOSURE = 4.0

SANDBOX_RUN = r"""
import asyncio, json
from playground.sandbox import SandboxLimits, SandboxOptions, run_script, start_gate

ECHO = '''
from channels.generic.websocket import AsyncWebsocketConsumer
class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data="echo " + text_data)
'''

async def main():
    options, limits = SandboxOptions(), SandboxLimits(cpu_seconds=2, lifetime_seconds=20, idle_seconds=20)
    gate = await start_gate(limits, options)
    events = []
    if gate.ok:
        ops = [{"type": "client.connect", "client": "c1", "path": "/"}, {"type": "client.send", "client": "c1", "text": "hi"}]
        events = await run_script(ECHO, ops, limits, options=options)
    print(json.dumps({"mode": options.mode, "gate": gate.ok, "reasons": gate.reasons,
                      "echoed": '"echo hi"' in json.dumps(events)}))

asyncio.run(main())
"""


def directives(text: str, name: str) -> list[str]:
    """Every value assigned to `name` in a unit file, in order."""
    return re.findall(rf"^{name}=(.*)$", text, re.M)


def exposure(unit_path) -> float:
    """systemd-analyze's overall exposure of a unit file, read offline."""
    if not shutil.which("systemd-analyze"):
        missing_service("systemd-analyze is not installed (apt-get install systemd)")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit_path)],
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


def page_mode_unit(tmp_path):
    """The Daphne unit with deploy/academy-sandboxing.conf as its drop-in, as one file (systemd merges them so)."""
    combined = tmp_path / WEB_UNIT.name
    combined.write_text(WEB_UNIT.read_text() + "\n" + SANDBOXING.read_text())
    return combined


def test_web_unit_runs_as_academy_with_no_capability_and_rates_at_most_4():
    text = WEB_UNIT.read_text()
    assert directives(text, "User") == ["academy"]
    assert directives(text, "CapabilityBoundingSet") == [""]
    assert directives(text, "NoNewPrivileges") == ["yes"]
    assert directives(text, "ProtectSystem") == ["strict"]
    assert "-b ${DAPHNE_BIND}" in directives(text, "ExecStart")[0]  # the bind address is academy.env's
    assert exposure(WEB_UNIT) <= MOST_EXPOSURE


def test_sandboxing_units_keep_only_the_bubblewrap_capabilities_and_rate_at_most_4(tmp_path):
    needed = directives(SANDBOXING.read_text(), "CapabilityBoundingSet")
    assert directives(WORKER_UNIT.read_text(), "CapabilityBoundingSet") == needed
    assert exposure(page_mode_unit(tmp_path)) <= MOST_EXPOSURE
    assert exposure(WORKER_UNIT) <= MOST_EXPOSURE


def run_sandbox_with(capabilities: list[str]) -> dict:
    """A start gate and an echo run as root whose bounding set is `capabilities`, no_new_privs, umask 077."""
    bounding = ",".join(["-all", *[f"+{cap.removeprefix('CAP_').lower()}" for cap in capabilities]])
    result = subprocess.run(
        ["setpriv", "--bounding-set", bounding, "--inh-caps", "-all", "--no-new-privs", "bash", "-c",
         'umask 077; exec "$0" -c "$1"', sys.executable, SANDBOX_RUN],
        cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_SECONDS,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"gate": False, "reasons": [result.stderr[-500:]], "echoed": False}


@pytest.mark.timeout(900)
def test_a_sandbox_runs_under_exactly_the_sandboxing_capabilities():
    if not shutil.which("setpriv") or not shutil.which("bwrap"):
        missing_service("setpriv (util-linux) and bwrap are needed")
    if os.geteuid() != 0:
        missing_service("the units' sandboxing set is for root mode; this test runs as root")
    (line,) = directives(SANDBOXING.read_text(), "CapabilityBoundingSet")
    capabilities = line.split()
    outcome = run_sandbox_with(capabilities)
    assert outcome == {"mode": "root", "gate": True, "reasons": [], "echoed": True}
    # Each of these missing stops every run (CAP_KILL only matters when a run leaves processes behind).
    for needed in ("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
        without = run_sandbox_with([cap for cap in capabilities if cap != needed])
        assert not (without["gate"] and without["echoed"]), f"runs work without {needed}: the set is too wide"


# systemd as PID 1 of its own pid, mount, cgroup, ipc and uts namespaces (this machine's PID 1 is not systemd): /run,
# /tmp, /var/tmp, /srv and the unit folder are fresh tmpfs, so nothing it does reaches the machine's own; the checkout
# is bound at /srv/channels-academy as the units expect, and an `academy` user exists in that namespace's /etc/passwd
# only. It shares the network, so its Daphne answers on this machine's loopback and reaches Redis and PostgreSQL.
BOOT = r"""
set -euo pipefail
checkout="$1" env_file="$2"
mount -t tmpfs tmpfs /srv
mkdir /srv/channels-academy
mount --bind "$checkout" /srv/channels-academy
mount -t tmpfs tmpfs /run
mkdir /run/channels-academy
cp "$env_file" /run/channels-academy/academy.env
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /var/cache
mount -t tmpfs tmpfs /etc/systemd/system
cp /etc/passwd /etc/group /run/
echo "academy:x:990:990:academy:/srv/channels-academy:/usr/sbin/nologin" >>/run/passwd
echo "academy:x:990:" >>/run/group
mount --bind /run/passwd /etc/passwd
mount --bind /run/group /etc/group
printf '[Unit]\nDescription=Channels Academy units under test\nDefaultDependencies=no\n' \
  >/etc/systemd/system/academy-test.target
exec /lib/systemd/systemd --system --unit=academy-test.target
"""


class NamespacedSystemd:
    """A real systemd running the units of deploy/, stopped with everything it started (SIGKILL to its PID 1)."""

    def __init__(self, tmp_path, env: dict[str, str]) -> None:
        env_file = tmp_path / "academy.env"
        env_file.write_text("".join(f"{name}='{value}'\n" for name, value in env.items()))
        boot = tmp_path / "boot.sh"
        boot.write_text(BOOT)
        self.log = open(tmp_path / "systemd.log", "wb")
        self.launcher = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child=SIGKILL", "--mount", "--uts", "--ipc", "--cgroup",
             "--mount-proc", "bash", str(boot), str(ROOT), str(env_file)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.pid = 0
        deadline = time.monotonic() + COMMAND_SECONDS
        while self.state() not in ("running", "degraded"):
            assert self.launcher.poll() is None, (tmp_path / "systemd.log").read_text()
            assert time.monotonic() < deadline, "systemd did not come up"
            time.sleep(0.2)

    def state(self) -> str:
        if not self.pid:
            children = Path(f"/proc/{self.launcher.pid}/task/{self.launcher.pid}/children")
            found = children.read_text().split() if children.exists() else []
            if not found:
                return ""
            self.pid = int(found[0])
        return self.run("systemctl is-system-running || true").stdout.strip()

    def run(self, script: str) -> subprocess.CompletedProcess:
        """A shell command inside the namespaces, where systemctl reaches this systemd."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-m", "-p", "-u", "-i", "sh", "-c", script],
            capture_output=True, text=True, timeout=COMMAND_SECONDS,
        )  # fmt: skip

    def install(self, name: str, text: str) -> None:
        path = f"/etc/systemd/system/{name}"
        done = self.run(f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}' <<'UNIT'\n{text}\nUNIT")
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)  # PID 1 of the namespace: the kernel kills everything in it
        self.launcher.wait(COMMAND_SECONDS)
        self.log.close()


def unit_text(path) -> str:
    """A unit of deploy/ as installed, reading the environment file from the namespace's /run."""
    return path.read_text().replace("/etc/channels-academy/academy.env", "/run/channels-academy/academy.env")


def interpreter_drop_in() -> str:
    """This machine's Python may live under /root (pyenv), which ProtectHome=yes hides: keep /root and /home empty
    (tmpfs) and bind that installation in, read-only. A Debian install (python3 in /usr) needs nothing of the kind."""
    home = Path(os.path.realpath(sys.executable)).parent.parent
    if not str(home).startswith(("/root/", "/home/")):
        return ""
    return f"[Service]\nProtectHome=tmpfs\nBindReadOnlyPaths={home}\n"


def status_of(systemd: NamespacedSystemd, unit: str) -> dict[str, str]:
    """/proc/PID/status of the unit's main process, read in the namespace (its PIDs are the namespace's)."""
    text = systemd.run(f"cat /proc/$(systemctl show -P MainPID {unit})/status").stdout
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def wait_for_readiness(url: str, systemd: NamespacedSystemd, unit: str) -> dict:
    """/healthz's answer with its details once the unit's Daphne answers (the unit's journal if it never does)."""
    deadline = time.monotonic() + COMMAND_SECONDS
    request = urllib.request.Request(url + "/healthz", headers={"X-Healthz-Token": HEALTHZ_TOKEN})
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            return json.load(error)
        except OSError:
            journal = systemd.run(f"journalctl -u {unit} --no-pager | tail -40").stdout
            assert time.monotonic() < deadline and "Failed with result" not in journal, journal
            time.sleep(0.5)


@pytest.mark.timeout(COMMAND_SECONDS * 2)
def test_the_units_run_under_a_real_systemd(tmp_path):
    """Issue 20, least privilege, beyond systemd-analyze's offline rating: the web unit serves and is ready as the
    unprivileged `academy` with no capability under every hardening directive it declares; with the sandboxing
    drop-in, a page-mode Daphne passes the sandbox start gate (deny probes in a real bubblewrap sandbox) as uid 0
    bounded to that set; the worker unit starts and listens for runs."""
    for tool in ("unshare", "nsenter", "/lib/systemd/systemd"):
        if not shutil.which(tool):
            missing_service(f"{tool} is needed to run systemd here (apt-get install systemd util-linux)")
    if os.geteuid() != 0:
        missing_service("systemd as PID 1 of a namespace needs root")
    redis_server = RedisServer()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x").rsplit("/", 1)[0]
    web_port, page_port = free_port(), free_port()
    env = {
        "DJANGO_SECRET_KEY": "test-only-" + "k" * 60,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"{server}/postgres",  # readiness only runs SELECT 1
        "REDIS_URL": redis_server.url,
        "DAPHNE_BIND": "127.0.0.1",
        "DJANGO_HEALTHZ_TOKEN": HEALTHZ_TOKEN,
    }
    systemd = NamespacedSystemd(tmp_path, env)
    try:
        systemd.install("academy-daphne@.service", unit_text(WEB_UNIT))
        systemd.install("academy-runworker@.service", unit_text(WORKER_UNIT))
        for unit in ("academy-daphne@.service", "academy-runworker@.service"):
            if interpreter_drop_in():
                systemd.install(f"{unit}.d/interpreter.conf", interpreter_drop_in())
        systemd.install(
            f"academy-daphne@{web_port}.service.d/workers.conf", "[Service]\nEnvironment=PLAYGROUND_EXECUTION=workers"
        )
        systemd.install(f"academy-daphne@{page_port}.service.d/sandboxing.conf", SANDBOXING.read_text())
        systemd.install(
            "academy-runworker@1.service.d/workers.conf", "[Service]\nEnvironment=PLAYGROUND_EXECUTION=workers"
        )
        started = systemd.run(
            f"systemctl daemon-reload && systemctl start academy-daphne@{web_port} academy-daphne@{page_port} "
            "academy-runworker@1"
        )
        assert started.returncode == 0, started.stdout + started.stderr

        ready = wait_for_readiness(f"http://127.0.0.1:{web_port}", systemd, f"academy-daphne@{web_port}")
        assert ready["ok"] is True, ready
        web = status_of(systemd, f"academy-daphne@{web_port}")
        assert web["Uid"].split()[0] != "0" and web["Uid"].split() == [web["Uid"].split()[0]] * 4, web["Uid"]
        assert int(web["CapBnd"], 16) == int(web["CapEff"], 16) == int(web["CapPrm"], 16) == 0, web
        assert web["NoNewPrivs"] == "1" and web["Seccomp"] == "2", web

        # The first readiness probe of a page-mode process runs the sandbox start gate.
        ready = wait_for_readiness(f"http://127.0.0.1:{page_port}", systemd, f"academy-daphne@{page_port}")
        assert ready["ok"] is True and ready["checks"]["sandbox"]["sandboxed"] is True, ready["checks"]["sandbox"]
        page = status_of(systemd, f"academy-daphne@{page_port}")
        assert page["Uid"].split()[0] == "0" and page["NoNewPrivs"] == "1", page
        (line,) = directives(SANDBOXING.read_text(), "CapabilityBoundingSet")
        assert int(page["CapBnd"], 16) == sum(1 << CAPABILITY_BITS[name] for name in line.split()), page

        deadline = time.monotonic() + COMMAND_SECONDS
        while "Running worker for channels" not in (
            journal := systemd.run("journalctl -u academy-runworker@1 --no-pager").stdout
        ):
            assert time.monotonic() < deadline and "Failed with result" not in journal, journal
            time.sleep(0.5)
        worker = status_of(systemd, "academy-runworker@1")
        assert worker["Uid"].split()[0] == "0" and int(worker["CapBnd"], 16) == int(page["CapBnd"], 16), worker
    finally:
        systemd.stop()
        redis_server.stop()
