"""A run survives its page's reload: the run's owner keeps it going for PLAYGROUND_REATTACH_SECONDS after the page
closes, and the reloaded page, on whichever process it lands, asks the owner to show it the run again.

Messages over the channel layer (types fixed here, in playground.owner and playground.consumers, never by a browser):
  page -> group playground.owner.RUN   run.attach {run_id, page, reply_channel}: show the run on `page` from now on
  owner -> reply_channel               run.attached {owner}, then the run so far to `page` as run.page messages
  page -> owner                        run.detach {page}: that page closed; the run waits for another to attach
Once attached, the page relays to the owner as a page relays to a worker's run owner (run.op, run.stop, run.page).
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull

from playground.models import Run

OWNER_ANSWER_SECONDS = 3.0  # a live owner answers at once; silence means its process is gone


async def ask(channel_layer: Any, channel: str, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """Send a request with a fresh reply channel and wait for the one answer; None if nobody answers in time."""
    reply_channel = await channel_layer.new_channel()
    try:
        await channel_layer.send(channel, {**message, "reply_channel": reply_channel})
        return await asyncio.wait_for(channel_layer.receive(reply_channel), timeout)
    except (TimeoutError, ChannelFull):
        return None


def owner_group(run_id: int) -> str:
    """Only the run's owner is in it: a page that knows the run's id, not its owner's channel, reaches it here."""
    return f"playground.owner.{run_id}"


@database_sync_to_async
def own_run(user_id: int, run_id: int) -> Run | None:
    """The learner's own run of that id; another learner's run is as absent as a run that never was."""
    return Run.objects.filter(pk=run_id, learner_id=user_id).defer("events", "code").first()


async def ask_owner(channel_layer: Any, run_id: int, page: str) -> str | None:
    """Ask the run's owner to show the run on `page`: its channel; "" when an open page shows the run (the owner's
    own socket); None when no owner answers (the run ended)."""
    reply_channel = await channel_layer.new_channel()
    request = {"type": "run.attach", "run_id": run_id, "page": page, "reply_channel": reply_channel}
    try:
        await channel_layer.group_send(owner_group(run_id), request)
        answer = await asyncio.wait_for(channel_layer.receive(reply_channel), OWNER_ANSWER_SECONDS)
    except (TimeoutError, ChannelFull):
        return None
    owner = answer.get("owner")
    return owner if isinstance(owner, str) else ""
