"""CohortConsumer: an instructor's dashboard socket, fed by learner activity in the cohort."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.sockets import UserSocketsMixin
from cohorts.access import is_cohort_instructor
from config.layer import FaultTolerantMixin, GroupMembership
from dashboards.announce import cohort_group

CLOSE_FORBIDDEN = 4403


class CohortConsumer(UserSocketsMixin, FaultTolerantMixin, AsyncJsonWebsocketConsumer):
    """Read-only: the browser never sends anything that reaches the channel layer."""

    membership: GroupMembership | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.cohort_id = int(self.scope["url_route"]["kwargs"]["cohort_id"])
        if (
            not user
            or not user.is_authenticated
            or not await database_sync_to_async(is_cohort_instructor)(user, self.cohort_id)
        ):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_id = user.pk
        self.membership = GroupMembership(self.channel_layer, self.channel_name)
        await self.membership.join(cohort_group(self.cohort_id))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.membership:
            await self.membership.leave_all()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Nothing to receive: dashboards only listen."""

    async def cohort_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def cohort_revoke(self, message: dict[str, Any]) -> None:
        if message["user_id"] == self.user_id and self.membership:
            await self.membership.leave_all()
            await self.close(code=CLOSE_FORBIDDEN)
