"""Resource attacks: CPU, time, memory, processes, disk, output. Each ends with a named reason or fails inside."""

from __future__ import annotations

import pytest

from playground.sandbox.host.script import WAIT
from tests.sandbox.support import FAST, connect, final, of, output, text

from .conftest import probe

pytestmark = pytest.mark.asyncio(loop_scope="session")


# A CPU limit is CPU time, not wall time: on a loaded machine one spinning process may take many seconds of wall time
# to use 1 s of CPU, so these runs get a lifetime that cannot end them first.
SPIN = FAST.replace(lifetime_seconds=120, idle_seconds=120)
SPIN_TIMEOUT = 150
# The script waits for the run to end by itself: without the wait it would finish (and stop the run) after its settle
# time, before a spinning process on a loaded machine has used its CPU seconds.
UNTIL_IT_ENDS = [connect(), {"type": WAIT, "seconds": SPIN_TIMEOUT}]


def ended(events, reason, what=None):
    last = final(events)
    assert last["reason"] == reason, last
    if what is not None:
        assert last.get("what") == what, last
        assert of(events, "limit", what=what)


async def test_cpu_spin_ends_with_cpu_limit(attack):
    ended(await attack("while True:\n    pass\n", UNTIL_IT_ENDS, limits=SPIN, timeout=SPIN_TIMEOUT), "limit", "cpu")


async def test_cpu_spin_ignoring_sigxcpu_is_still_a_cpu_limit(attack):
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    ended(await attack(code, UNTIL_IT_ENDS, limits=SPIN, timeout=SPIN_TIMEOUT), "limit", "cpu")


async def test_cpu_spin_in_c_code_ends_with_cpu_limit(attack):
    ended(await attack("sum(range(10 ** 12))\n", UNTIL_IT_ENDS, limits=SPIN, timeout=SPIN_TIMEOUT), "limit", "cpu")


async def test_busy_threads_end_with_cpu_limit(attack):
    code = """
import threading
def spin():
    while True:
        pass
for _ in range(8):
    threading.Thread(target=spin, daemon=True).start()
spin()
"""
    ended(await attack(code, UNTIL_IT_ENDS, limits=SPIN, timeout=SPIN_TIMEOUT), "limit", "cpu")


async def test_sleep_forever_ends_with_time_limit(attack):
    limits = FAST.replace(lifetime_seconds=2, idle_seconds=20)
    ended(await attack("import time\ntime.sleep(10 ** 6)\n", limits=limits), "limit", "time")


async def test_sigterm_ignored_does_not_delay_the_stop(attack):
    code = probe(
        "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n    signal.signal(s, signal.SIG_IGN)\n"
    )
    events = await attack(code)
    assert final(events)["reason"] == "stopped"


async def test_blocked_event_loop_ends_with_time_limit(attack):
    code = probe("") + "\n    async def connect(self):\n        import time\n        time.sleep(10 ** 6)\n"
    limits = FAST.replace(lifetime_seconds=2, idle_seconds=20)
    ended(await attack(code, limits=limits), "limit", "time")


async def test_memory_hog_at_once_ends_with_memory_limit(attack):
    ended(await attack("hog = bytearray(512 * 1024 * 1024)\n"), "limit", "memory")


async def test_memory_hog_step_by_step_ends_with_memory_limit(attack):
    ended(await attack("hog = []\nwhile True:\n    hog.append(bytearray(4 * 1024 * 1024))\n"), "limit", "memory")


async def test_memory_hog_inside_a_consumer_ends_with_memory_limit(attack):
    code = (
        probe("")
        + "\n    async def receive(self, text_data=None, bytes_data=None):\n        self.hog = [bytearray(1 << 20) for _ in range(1000)]\n"
    )
    ops = [{"type": "client.connect", "client": "c1", "path": "/"}, text("c1", "eat")]
    ended(await attack(code, ops), "limit", "memory")


async def test_process_limit_stops_forking(attack):
    code = probe("""
import os, time
count = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError as exc:
        print("RESULT fork refused errno", exc.errno, "after", count, flush=True)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    count += 1
""")
    events = await attack(code)
    line = [x for x in output(events).splitlines() if x.startswith("RESULT")][0]
    assert "errno 11" in line
    assert int(line.rsplit(" ", 1)[1]) < FAST.max_processes


async def test_fork_bomb_is_contained(attack):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    events = await attack(code, limits=FAST.replace(lifetime_seconds=5))
    assert final(events)["reason"] == "limit" and final(events)["what"] in ("cpu", "time")


async def test_double_fork_daemon_does_not_outlive_the_run(attack):
    code = probe("""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print("RESULT daemon", os.getpid(), flush=True)
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
time.sleep(0.2)
""")
    events = await attack(code)
    assert "RESULT daemon" in output(events)
    assert final(events)["reason"] == "stopped"  # and the fixture checks that no process of the run remains


async def test_one_gib_file_fails_with_efbig(attack):
    code = probe("""
try:
    with open("/tmp/big", "wb") as handle:
        for _ in range(1024):
            handle.write(b"\\0" * (1 << 20))
            handle.flush()
except OSError as exc:
    print("RESULT", exc.errno, flush=True)
""")
    assert "RESULT 27" in output(await attack(code))  # EFBIG, not death by SIGXFSZ


async def test_disk_fill_of_tmp_stops_at_the_tmpfs_size(attack):
    code = probe("""
import os
written = 0
try:
    for index in range(100):
        with open(f"/tmp/fill{index}", "wb") as handle:
            handle.write(b"x" * (1 << 20) - 1 if False else b"x" * ((1 << 20) - 4096))
        written += 1
except OSError as exc:
    print("RESULT", exc.errno, written, flush=True)
""")
    result = [x for x in output(await attack(code)).splitlines() if x.startswith("RESULT")][0].split()
    assert result[1] == "28" and int(result[2]) <= FAST.tmpfs_bytes // (1 << 20)  # ENOSPC


async def test_stdout_flood_ends_with_output_limit(attack):
    ended(await attack("while True:\n    print('x' * 1000)\n"), "limit", "output")


async def test_stderr_flood_ends_with_output_limit(attack):
    ended(await attack("import sys\nwhile True:\n    sys.stderr.write('y' * 1000 + '\\n')\n"), "limit", "output")


async def test_raw_fd_flood_ends_with_output_limit(attack):
    ended(await attack("import os\nwhile True:\n    os.write(1, b'z' * 65536)\n"), "limit", "output")


async def test_invalid_bytes_output_is_replaced_not_fatal(attack):
    events = await attack(probe("import os\nos.write(1, b'\\xff\\xfe bad \\xc3(\\n')\n"))
    assert "\ufffd\ufffd bad \ufffd(" in output(events)
    assert final(events)["reason"] == "stopped"


async def test_segfault_via_ctypes_is_a_named_crash(attack):
    events = await attack("import ctypes\nctypes.string_at(0)\n")
    assert final(events)["reason"] == "crashed" and "SIGSEGV" in final(events)["detail"]


async def test_deep_recursion_is_a_learner_error_with_line(attack):
    events = await attack("def dive(n):\n    return dive(n + 1)\n\ndive(0)\n")
    error = of(events, "error")[0]
    assert "RecursionError" in error["message"] and error["line"] in (2, 4)
    assert final(events)["reason"] == "error"
