"""The site's Daphne (config.serve) for idle_profile.py: the first SIGUSR1 starts tracemalloc, each one writes a snapshot.

Tracing starts only when asked (tracing Django's start and the content load would take minutes on a busy machine),
so the first snapshot is empty and the second holds what was allocated since, and is still alive. Each SIGUSR1 writes, into the folder TRACED_SERVE_DIR names, snapshot-N.pickle (tracemalloc, TRACED_SERVE_FRAMES
frames a block) and objects-N.json (live objects counted by type after a full collection, objgraph-style), then
the file done-N, so the profiler knows both are complete.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = Path(os.environ["TRACED_SERVE_DIR"])
taken = 0


def type_counts() -> dict[str, int]:
    """Live objects tracked by the collector, by qualified type name."""
    gc.collect()
    counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    return dict(counts)


def write_snapshot(signum: int, frame: object) -> None:
    """Runs on Daphne's main thread between bytecodes: the event loop waits while the snapshot is written."""
    global taken
    taken += 1
    counts = type_counts()
    if not tracemalloc.is_tracing():
        tracemalloc.start(int(os.environ.get("TRACED_SERVE_FRAMES", "12")))
    tracemalloc.take_snapshot().dump(str(OUT / f"snapshot-{taken}.pickle"))
    (OUT / f"objects-{taken}.json").write_text(json.dumps(counts))
    (OUT / f"done-{taken}").touch()


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, write_snapshot)
    from config.serve import LimitedCommandLine

    LimitedCommandLine().run(sys.argv[1:])
