"""Issue 19 item 3: a server-wide cap on running sandboxes, whoever starts them, shown in /healthz's details."""

from __future__ import annotations

import pytest

from playground import sandbox_supply
from tests.playground.conftest import starter_code

pytestmark = pytest.mark.django_db(transaction=True)


def is_stopped(message: dict) -> bool:
    return message["type"] == "status" and message["state"] == "stopped"


async def test_runs_beyond_the_server_cap_are_told_the_playground_is_full(page_factory, settings):
    settings.PLAYGROUND_MAX_RUNNING_SANDBOXES = 2
    first, second, third = [await page_factory() for _ in range(3)]  # three learners, each within their own limits
    await first.run(starter_code("echo"))
    await second.run(starter_code("echo"))
    assert await sandbox_supply.health() == await sandbox_supply.health() | {"running": 2, "cap": 2}

    await third.send(type="run", code=starter_code("echo"))
    full = await third.expect(is_stopped)
    assert full["reason"] == "The playground is full: 2 runs are going on this server. Please try again in 30 s."

    await first.send(type="stop")
    await first.expect(is_stopped)
    await third.run(starter_code("echo"))
    assert third.seen[-1]["state"] == "running"
    assert (await sandbox_supply.health())["running"] == 2
