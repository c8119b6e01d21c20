"""Attacks on the protocol and misbehaving consumers: forged events end the run; learner bugs are reported."""

from __future__ import annotations

import pytest

from tests.sandbox.support import ECHO, FAST, close, connect, final, of, output, text

from .conftest import probe

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIND_PROTOCOL_FD = """
import os
_args = open("/proc/self/cmdline", "rb").read().split(b"\\0")
PROTOCOL_FD = int(_args[_args.index(b"--out") + 1])
"""


def protocol_attack(payload: str) -> str:
    """A consumer that writes `payload` straight onto the harness's protocol descriptor when it receives."""
    return (
        FIND_PROTOCOL_FD
        + ECHO
        + f"\n    async def connect(self):\n        await self.accept()\n        os.write(PROTOCOL_FD, {payload})\n"
    )


async def test_forged_exit_event_on_the_protocol_fd_ends_the_run(attack):
    events = await attack(protocol_attack('b\'{"type": "exit", "reason": "stopped"}\\n\''))
    assert final(events)["reason"] == "protocol" and "unknown event" in final(events)["detail"]
    assert len(of(events, "exit")) == 1


async def test_forged_event_for_an_unknown_client_ends_the_run(attack):
    events = await attack(protocol_attack('b\'{"type": "consumer.send", "client": "victim", "text": "pwned"}\\n\''))
    assert final(events)["reason"] == "protocol" and "unknown client" in final(events)["detail"]
    assert not of(events, "consumer.send", client="victim")


async def test_forged_output_event_on_the_protocol_fd_ends_the_run(attack):
    events = await attack(protocol_attack('b\'{"type": "output", "stream": "stdout", "text": "fake"}\\n\''))
    assert final(events)["reason"] == "protocol"


async def test_garbage_on_the_protocol_fd_ends_the_run(attack):
    events = await attack(protocol_attack("b'\\xff\\xfe not json at all\\n'"))
    assert final(events)["reason"] == "protocol"


async def test_oversize_line_on_the_protocol_fd_ends_the_run(attack):
    events = await attack(protocol_attack('b\'{"type": "consumer.send", "text": "\' + b\'x\' * (4 << 20)'))
    assert final(events)["reason"] == "protocol" and "longer than allowed" in final(events)["detail"]


async def test_closing_the_protocol_fd_ends_the_run(attack):
    code = (
        FIND_PROTOCOL_FD
        + ECHO
        + "\n    async def connect(self):\n        await self.accept()\n        os.close(PROTOCOL_FD)\n"
    )
    events = await attack(code, limits=FAST.replace(lifetime_seconds=20, idle_seconds=20))
    assert final(events)["reason"] == "protocol" and "closed its event stream" in final(events)["detail"]


async def test_forged_json_on_stdout_is_only_output(attack):
    code = probe('print(\'{"type": "exit", "reason": "limit", "what": "cpu"}\', flush=True)\n')
    events = await attack(code)
    assert '"type": "exit"' in output(events) and len(of(events, "exit")) == 1
    assert final(events)["reason"] == "stopped"


async def test_consumer_flooding_a_client_hits_the_event_limit(attack):
    code = (
        ECHO
        + "\n    async def connect(self):\n        await self.accept()\n        while True:\n            await self.send(text_data='flood' * 100)\n"
    )
    events = await attack(code, limits=FAST.replace(max_events=500))
    assert final(events)["reason"] == "limit" and final(events)["what"] == "events"


async def test_consumer_that_never_accepts_leaves_the_client_waiting(attack):
    code = ECHO + "\n    async def connect(self):\n        self.waiting = True\n"
    events = await attack(code, [connect(), text("c1", "anyone?"), close("c1")])
    assert not of(events, "consumer.accept") and not of(events, "consumer.send")
    assert "c1 is not connected" in of(events, "error", source="host")[0]["message"]
    assert final(events)["reason"] == "stopped"


async def test_consumer_raising_in_connect_is_rejected_with_500(attack):
    code = ECHO + "\n    async def connect(self):\n        raise RuntimeError('no entry')\n"
    events = await attack(code)
    error = of(events, "error", client="c1")[0]
    assert error["method"] == "connect" and error["line"] == 12 and "no entry" in error["message"]
    assert of(events, "consumer.reject", client="c1")[0]["status"] == 500


async def test_consumer_raising_in_receive_closes_with_1011(attack):
    code = ECHO + "\n    async def receive(self, text_data=None, bytes_data=None):\n        1 / 0\n"
    events = await attack(code, [connect(), text("c1", "x")])
    assert of(events, "error", client="c1")[0]["line"] == 12
    assert of(events, "consumer.close", client="c1", by="server")[0]["code"] == 1011


async def test_consumer_raising_in_disconnect_is_reported(attack):
    code = ECHO + "\n    async def disconnect(self, code):\n        raise ValueError('cleanup failed')\n"
    events = await attack(code, [connect(), close("c1")])
    error = of(events, "error", client="c1")[0]
    assert error["method"] == "disconnect" and error["line"] == 12 and "cleanup failed" in error["message"]
    assert final(events)["reason"] == "stopped"


async def test_files_in_tmp_and_shm_do_not_reach_the_next_run(attack):
    writer = probe("""
open("/tmp/left-behind", "w").write("secret")
try:
    open("/dev/shm/left-behind", "w").write("secret")
except OSError as exc:
    print("RESULT shm", exc.errno, flush=True)
""")
    first = await attack(writer)
    assert "RESULT shm" in output(first)
    reader = probe(
        "import os\nprint('RESULT tmp', sorted(os.listdir('/tmp')), sorted(os.listdir('/dev/shm')), flush=True)\n"
    )
    assert "RESULT tmp [] []" in output(await attack(reader))


async def test_sys_exit_at_import_is_a_load_error(attack):
    events = await attack("import sys\nsys.exit(0)\n")
    assert "SystemExit" in of(events, "error")[0]["message"] and final(events)["reason"] == "error"


async def test_hard_exit_of_the_harness_is_a_named_crash(attack):
    events = await attack("import os\nos._exit(0)\n")
    assert final(events)["reason"] == "crashed" and "exited by itself" in final(events)["detail"]


async def test_replacing_stdout_cannot_reach_the_protocol(attack):
    code = probe(
        "import sys, io\nsys.stdout = io.StringIO()\nsys.__stdout__.write('RESULT still output\\n')\nsys.__stdout__.flush()\n"
    )
    events = await attack(code)
    assert "RESULT still output" in output(events) and final(events)["reason"] == "stopped"
