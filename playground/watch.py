"""Watching a live run read-only: the owner's stream is mirrored to a group that permitted watchers join."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.sockets import UserSocketsMixin
from cohorts.access import instructs_learner
from config.layer import FaultTolerantMixin, GroupMembership
from playground.sandbox.shared import protocol

CLOSE_FORBIDDEN = 4403
# What an instructor watching a run sees: the trace, output, errors, status and the panel clients' traffic.
WATCHED_TYPES = frozenset(
    {
        protocol.BATCH,
        protocol.EVENTS,
        protocol.OUTPUT,
        protocol.ERROR,
        protocol.STATUS,
        protocol.PAUSED,
        protocol.RESUMED,
        *protocol.CONSUMER_EVENTS,
    }
)


def watch_group(run_id: int) -> str:
    return f"playground.watch.{run_id}"


async def mirror_to_watchers(channel_layer: Any, run_id: int, content: dict[str, Any]) -> None:
    """Whoever owns a run sends each page message here too, so watchers see the same stream read-only."""
    if content["type"] in WATCHED_TYPES:
        await channel_layer.group_send(watch_group(run_id), {"type": "watch.update", "message": content})


def may_watch(user: Any, run_id: int) -> bool:
    """The run's owner, or an instructor of a cohort the owner learns in."""
    from playground.models import Run

    learner_id = Run.objects.filter(pk=run_id).values_list("learner_id", flat=True).first()
    return learner_id is not None and (learner_id == user.pk or instructs_learner(user, learner_id))


def how_run_ended(run_id: int) -> str | None:
    """Why the run ended, or None while it runs: a watcher arriving after the end hears it at once."""
    from playground.models import Run

    run = Run.objects.filter(pk=run_id, ended_at__isnull=False).first()
    return (run.end_detail or run.get_end_reason_display()) if run else None


class RunWatchConsumer(UserSocketsMixin, FaultTolerantMixin, AsyncJsonWebsocketConsumer):
    """Receives the run's events as they happen; nothing the watcher sends reaches the run."""

    membership: GroupMembership | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        if not user or not user.is_authenticated or not await database_sync_to_async(may_watch)(user, run_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.membership = GroupMembership(self.channel_layer, self.channel_name)
        await self.membership.join(watch_group(run_id))
        await self.accept()
        ended = await database_sync_to_async(how_run_ended)(run_id)
        if ended is not None:  # joined first, so a run ending after this check reaches the watcher through the group
            await self.send_json({"type": "status", "state": "stopped", "reason": ended})
            await self.close()
            return
        await self.channel_layer.group_send(
            watch_group(run_id), {"type": "watch.hello", "run_id": run_id, "reply_channel": self.channel_name}
        )

    async def disconnect(self, code: int) -> None:
        if self.membership:
            await self.membership.leave_all()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Watching is read-only."""

    async def watch_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["message"])

    async def watch_hello(self, message: dict[str, Any]) -> None:
        """Another watcher's greeting: only the run's owner answers it."""
