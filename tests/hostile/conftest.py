"""The attack corpus runs with the sandbox suite's fixtures plus a checker that every case must pass through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest_asyncio

from playground.sandbox import Sandbox, SandboxLimits, run_script
from tests.sandbox.conftest import bystander, sandbox_env, server_canary  # noqa: F401 - shared fixtures
from tests.sandbox.support import ECHO, FAST, assert_no_canary, assert_run_left_nothing, connect

Attack = Callable[..., Awaitable[list[dict[str, Any]]]]

SYSCALL_HELPER = """
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
def syscall(number, *args):
    ctypes.set_errno(0)
    result = _libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    return result, ctypes.get_errno()
"""


def probe(body: str) -> str:
    """Hostile module code followed by a normal consumer, so the run loads after the attack."""
    return body + "\n" + ECHO


@pytest_asyncio.fixture(loop_scope="session")
async def attack(bystander):  # noqa: F811 - the fixture imported above
    """Run hostile code; meanwhile and afterwards the bystander must echo; nothing of the run may survive."""

    async def run(
        code: str, ops: list[dict[str, Any]] | None = None, limits: SandboxLimits = FAST, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        sandbox = await Sandbox.start(limits)
        pid, uid = sandbox.pid, sandbox.uid
        task = asyncio.get_running_loop().create_task(
            run_script(code, [connect()] if ops is None else ops, limits, timeout, sandbox=sandbox)
        )
        await asyncio.sleep(0.3)
        await bystander.round_trip()
        events = await task
        await bystander.round_trip()
        assert_run_left_nothing(pid, uid)
        assert_no_canary(events)
        assert_no_canary(bystander.events)
        return events

    return run
