"""Host-side process accounting for sandboxes: CPU of a process tree, processes of a uid, killing them (blocking; call via a thread)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    """The few /proc/PID/stat fields the host needs."""

    pid: int
    ppid: int
    own_ticks: int  # utime + stime
    reaped_ticks: int  # cutime + cstime: children this process has waited for


def read_stat(pid: int) -> ProcStat | None:
    """One process's stat line, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return ProcStat(pid, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    except (IndexError, ValueError):
        return None


def scan() -> dict[int, ProcStat]:
    """Every process on the host."""
    table: dict[int, ProcStat] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(int(name))
            if stat is not None:
                table[stat.pid] = stat
    return table


def tree(table: dict[int, ProcStat], root: int) -> list[int]:
    """`root` and all its descendants in `table`."""
    children: dict[int, list[int]] = {}
    for stat in table.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = [], [root] if root in table else []
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_cpu(table: dict[int, ProcStat], root: int, *, include_root: bool) -> tuple[float, float]:
    """(CPU seconds of the whole tree incl. reaped children, CPU seconds of its busiest live process)."""
    total = busiest = 0
    for pid in tree(table, root):
        if pid == root and not include_root:
            continue
        stat = table[pid]
        total += stat.own_ticks + stat.reaped_ticks
        busiest = max(busiest, stat.own_ticks)
    return total / CLOCK_TICKS, busiest / CLOCK_TICKS


def uids_of(pid: int) -> tuple[int, ...]:
    """Real, effective, saved and filesystem uid of a process (empty when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Uid:"):
                    return tuple(int(x) for x in line.split()[1:5])
    except (OSError, ValueError):
        pass
    return ()


def pids_of_uid(uid: int) -> list[int]:
    """Processes that hold `uid` in any of their uid slots (status, not the /proc dir owner, which dumpable=0 hides)."""
    return [int(name) for name in os.listdir("/proc") if name.isdigit() and uid in uids_of(int(name))]


def uids_in_use(low: int, high: int) -> set[int]:
    """Uids in [low, high) that some process holds right now."""
    used: set[int] = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            used.update(u for u in uids_of(int(name)) if low <= u < high)
    return used


def kill_uid(uid: int, timeout: float = 3.0) -> list[int]:
    """SIGKILL every process of `uid` until none is left (or `timeout`); returns the pids still present."""
    deadline = time.monotonic() + timeout
    while True:
        pids = pids_of_uid(uid)
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
