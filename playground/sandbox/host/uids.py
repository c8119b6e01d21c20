"""One unprivileged uid per concurrent root-mode sandbox, so RLIMIT_NPROC and kill-by-uid bind exactly one run."""

from __future__ import annotations

import random
import socket
import threading

from . import procs

LOCK_PREFIX = b"\0channels-academy/sandbox-uid/"


class NoFreeUid(RuntimeError):
    """Every uid of the configured range is taken."""


class UidSlot:
    """A uid reserved for one sandbox, across all server processes on the host, until released."""

    def __init__(self, uid: int, lock: socket.socket) -> None:
        self.uid = uid
        self._lock = lock

    def release(self) -> list[int]:
        """Kill whatever still runs as this uid, then free it (kept reserved if something survived)."""
        survivors = procs.kill_uid(self.uid)
        if not survivors and self._lock is not None:
            self._lock.close()
            self._lock = None  # type: ignore[assignment]
        return survivors


_local_lock = threading.Lock()


def acquire_uid(base: int, count: int) -> UidSlot:
    """Reserve a free uid in [base, base+count): an abstract Unix socket name is the cross-process lock
    (released by the kernel if this process dies; sandboxes live in other network namespaces and cannot touch it)."""
    with _local_lock:
        busy = procs.uids_in_use(base, base + count)
        start = random.randrange(count)
        for offset in range(count):
            uid = base + (start + offset) % count
            if uid in busy:
                continue
            lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                lock.bind(LOCK_PREFIX + str(uid).encode())
            except OSError:
                lock.close()
                continue
            return UidSlot(uid, lock)
    raise NoFreeUid(f"no free sandbox uid in {base}..{base + count - 1}")
