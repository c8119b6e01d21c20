"""A page relaying a worker's run keeps watching for the worker's death through a database that fails for a moment."""

from __future__ import annotations

import asyncio

from django.db import OperationalError

from playground import consumers
from playground.relay import RelayingPlaygroundConsumer


async def test_a_failed_check_is_retried_and_the_page_is_still_told_the_run_was_interrupted(settings, monkeypatch):
    settings.PLAYGROUND_HEARTBEAT_SECONDS = 0.01
    answers = iter([OperationalError("sorry, too many clients already"), None, "the server process running it stopped"])

    async def interrupted_run(run_id: int) -> str | None:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(consumers, "interrupted_run", interrupted_run)
    page = RelayingPlaygroundConsumer()
    page.owner, page.ended, page.relayed_run = "worker.owner!1", False, 7
    sent: list[dict] = []

    async def send_json(content: dict, close: bool = False) -> None:
        sent.append(content)

    monkeypatch.setattr(page, "send_json", send_json)
    await asyncio.wait_for(page.watch_for_a_dead_owner(7), timeout=30)
    assert sent == [{"type": "status", "state": "stopped", "reason": "the server process running it stopped"}]
    assert page.ended
