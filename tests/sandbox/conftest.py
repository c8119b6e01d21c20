"""Fixtures for the sandbox suites: no Django settings needed, only a built package env and a canary."""

from __future__ import annotations

import os
import secrets

import pytest
import pytest_asyncio

from playground.sandbox import Sandbox, SandboxLimits
from playground.sandbox.host import envbuild

from .support import CANARY_ENV, ECHO, Bystander, connect


@pytest.fixture(scope="session", autouse=True)
def sandbox_env() -> None:
    """Build the read-only package env once (a no-op when its stamp matches)."""
    envbuild.build()


@pytest.fixture(scope="session", autouse=True)
def server_canary() -> str:
    """A secret in the server's own environment, present before any sandbox starts."""
    value = secrets.token_hex(16)
    os.environ[CANARY_ENV] = value
    return value


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def bystander(sandbox_env, server_canary):
    """A long-lived echo sandbox with client b1 open, shared by the hostile cases."""
    limits = SandboxLimits(lifetime_seconds=900, idle_seconds=900, run_cpu_seconds=60)
    sandbox = await Sandbox.start(limits)
    await sandbox.load(ECHO)
    await sandbox.send(connect("b1"))
    assert await sandbox.settle(30)
    watcher = Bystander(sandbox)
    await watcher.round_trip()
    yield watcher
    await sandbox.stop("suite finished")
