"""Processes the fault and cross-process tests start or inspect: runworker, and what runs below a server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, stop_process


class RunWorker:
    """A real `manage.py runworker playground-runs` process, ready once it says it listens."""

    def __init__(self, env: dict[str, str], log_path: Path, timeout: float = 60.0) -> None:
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runworker", "playground-runs"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while "Running worker for channels" not in self.log_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"runworker did not start:\n{self.log_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of each of its threads)."""
    found: set[int] = set()
    parents = [pid]
    while parents:
        parent = parents.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(kid) for kid in children.read_text().split()}
            except OSError:  # the process or thread is gone
                continue
            parents.extend(kids - found)
            found |= kids
    return {kid for kid in found if alive(kid)}


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def descendant_commands(pid: int) -> list[str]:
    return [command(kid) for kid in descendants(pid)]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pids_where(matches) -> list[int]:
    """Processes whose command line and environment (lists of bytes) satisfy `matches(argv, environ)`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if matches(argv, environ):
            pids.append(int(entry.name))
    return pids
