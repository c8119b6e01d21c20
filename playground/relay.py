"""PLAYGROUND_EXECUTION=workers, web side: the page's socket checks and forwards; a runworker process runs the code.

Messages over the channel layer (types fixed here and in playground.worker, never by a browser):
  page -> settings.PLAYGROUND_WORKER_CHANNEL  run.start {run_id, page, live_endpoint, reply_channel}
  worker -> reply_channel                     run.accepted {owner}: the channel of the run's owner on that worker
  page -> owner                               run.op {op} (already checked), run.stop {reason, detail, reply_channel}
  owner -> reply_channel                      run.stopped
  owner -> page                               run.page {run_id, message}: one page message, relayed as it is
  page -> owner                               run.detach {page}: the page closed; the run waits for it to attach
                                              again (playground.attach), then ends
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from playground.attach import ask
from playground.consumers import PlaygroundConsumer
from playground.live import live_endpoint
from playground.models import Run
from playground.run.records import close_run

logger = logging.getLogger(__name__)


class RelayingPlaygroundConsumer(PlaygroundConsumer):
    """The page's socket when runs live on workers: it never loads a sandbox, and relays the run's page messages
    (PlaygroundConsumer's relay: run.op, run.stop, run.page)."""

    @property
    def running(self) -> bool:
        return self.relaying

    async def begin(self, run: Run) -> None:
        seconds = settings.PLAYGROUND_WORKER_START_SECONDS
        request = {
            "type": "run.start",
            "run_id": run.pk,
            "page": self.channel_name,
            "live_endpoint": live_endpoint(self.scope),
        }
        accepted = await ask(self.channel_layer, settings.PLAYGROUND_WORKER_CHANNEL, request, seconds)
        if accepted is None:
            reason = f"No playground worker answered within {seconds:g} seconds; the run did not start. Try again soon."
            logger.warning("run %s: no worker answered on %r", run.pk, settings.PLAYGROUND_WORKER_CHANNEL)
            await close_run(run.pk, Run.EndReason.START_FAILED, reason, [], 0, False)
            await self.send_json({"type": "status", "state": "stopped", "reason": reason})
            return
        await self.relay_to(run.pk, accepted["owner"])

    async def end_run(self, reason: str, detail: str = "") -> None:
        await self.stop_relayed_run(reason, detail)

    async def forward(self, op: dict[str, Any]) -> None:
        await self.forward_to_owner(op)
