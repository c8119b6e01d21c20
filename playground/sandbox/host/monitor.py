"""Samples the CPU time of every live sandbox's process tree twice a second (one /proc scan per loop, in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable

from . import procs

SAMPLE_SECONDS = 0.5

CpuCallback = Callable[[float, float], None]  # (total CPU seconds of the tree, busiest live process)


class CpuMonitor:
    """Feeds CPU samples to the sandboxes of one event loop; runs only while some sandbox is watched."""

    def __init__(self) -> None:
        self.watched: dict[object, tuple[int, bool, CpuCallback]] = {}
        self.task: asyncio.Task[None] | None = None

    def watch(self, key: object, root_pid: int, include_root: bool, callback: CpuCallback) -> None:
        """Start sampling the tree under `root_pid` for `key`."""
        self.watched[key] = (root_pid, include_root, callback)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="sandbox-cpu-monitor")

    def unwatch(self, key: object) -> None:
        """Stop sampling for `key`."""
        self.watched.pop(key, None)

    async def _run(self) -> None:
        while self.watched:
            await asyncio.sleep(SAMPLE_SECONDS)
            if not self.watched:
                break
            table = await asyncio.to_thread(procs.scan)
            for key, (root, include_root, callback) in list(self.watched.items()):
                if key not in self.watched:
                    continue
                total, busiest = procs.tree_cpu(table, root, include_root=include_root)
                with contextlib.suppress(Exception):
                    callback(total, busiest)


_monitors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CpuMonitor] = weakref.WeakKeyDictionary()


def cpu_monitor() -> CpuMonitor:
    """The monitor of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _monitors:
        _monitors[loop] = CpuMonitor()
    return _monitors[loop]
