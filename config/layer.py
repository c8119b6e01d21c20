"""Consumers that survive faults: Redis stopping or restarting empty, and clients leaving mid-message.

A consumer whose layer fails closes its socket with a code the page retries, instead of crashing with
1011; group members join again every CHANNEL_GROUP_REFRESH_SECONDS, so a Redis that came back empty
delivers group messages again without a server restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketCloseEvent
from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import BaseChannelLayer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis.exceptions import RedisError

from config.per_loop import OnePerEventLoop

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the scope type types-channels gives every consumer

logger = logging.getLogger(__name__)

# What a failing channel layer raises (redis-py errors; OSError for a refused or reset socket).
LAYER_ERRORS = (RedisError, OSError)
# The server is fine but its channel layer is not; the page reconnects with backoff. (The standard 1012
# "service restart" would say the same, but Daphne's autobahn sends only 1000 and 3000-4999.)
CLOSE_LAYER_UNAVAILABLE = 4012
CLOSE_ABNORMAL = 1006  # the code a consumer's disconnect() sees when the connection just dropped


async def quietly(call: Awaitable[Any], what: str) -> bool:
    """Clean-up that must not stop the clean-up after it (group_discard while Redis is down, a last message to a
    socket that just closed); False if it failed."""
    try:
        await call
    except (*LAYER_ERRORS, Disconnected) as exc:
        logger.warning("%s failed: %s", what, exc or type(exc).__name__)
        return False
    return True


class FaultTolerantMixin(AsyncWebsocketConsumer):
    """For WebSocket consumers: a failing channel layer closes the socket with CLOSE_LAYER_UNAVAILABLE, a client
    that left while a message for it was on its way is cleaned up quietly, and whatever ends the consumer, its
    disconnect() clean-up (leaving groups, stopping a run) still happens."""

    async def __call__(self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS as exc:
            name = type(self).__name__
            logger.warning("%s: channel layer failed (%s); closing with %s", name, exc, CLOSE_LAYER_UNAVAILABLE)
            await quietly(self.layer_failed(), "the consumer's clean-up")
            closing: WebSocketCloseEvent = {"type": "websocket.close", "code": CLOSE_LAYER_UNAVAILABLE, "reason": None}
            await quietly(self.base_send(closing), "closing the socket")
        except Disconnected:
            # Daphne raises when a consumer sends to a socket its client closed a moment ago; nobody is left to tell.
            await quietly(self.disconnect(CLOSE_ABNORMAL), "clean-up after the client left")
        except Exception:
            await quietly(self.disconnect(CLOSE_ABNORMAL), "clean-up after an error")
            raise

    async def layer_failed(self) -> None:
        """The consumer's own clean-up once the layer has failed; disconnect() is not called after this."""
        await self.disconnect(CLOSE_LAYER_UNAVAILABLE)


class GroupMembership:
    """The groups one channel is in; while any remain, its process's GroupRefresher joins them again every
    CHANNEL_GROUP_REFRESH_SECONDS (one task for every membership of the process, not one per socket)."""

    __slots__ = ("layer", "channel", "groups")

    def __init__(self, layer: BaseChannelLayer, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.groups: set[str] = set()

    async def join(self, group: str) -> None:
        await self.layer.group_add(group, self.channel)
        self.groups.add(group)
        GroupRefresher.of_this_loop().add(self)

    async def leave(self, group: str) -> None:
        self.groups.discard(group)
        await quietly(self.layer.group_discard(group, self.channel), f"leaving {group}")
        if not self.groups:
            GroupRefresher.of_this_loop().discard(self)

    async def leave_all(self) -> None:
        for group in list(self.groups):
            await self.leave(group)
        GroupRefresher.of_this_loop().discard(self)

    async def refresh(self) -> None:
        """A failed refresh is logged and tried again next time: Redis may be on its way back."""
        for group in list(self.groups):
            await quietly(self.layer.group_add(group, self.channel), f"re-joining {group}")


class GroupRefresher(OnePerEventLoop):
    """One event loop's memberships, joined again every CHANNEL_GROUP_REFRESH_SECONDS by one task that runs while
    there are any (an idle socket used to keep a sleeping task of its own for this)."""

    def __init__(self) -> None:
        self.memberships: set[GroupMembership] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, membership: GroupMembership) -> None:
        self.memberships.add(membership)
        if self.task is None:
            self.task = asyncio.create_task(self.refresh_forever())

    def discard(self, membership: GroupMembership) -> None:
        self.memberships.discard(membership)
        if not self.memberships and self.task is not None:
            self.task.cancel()
            self.task = None

    async def refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.CHANNEL_GROUP_REFRESH_SECONDS)
            for membership in list(self.memberships):
                await membership.refresh()


class QuietRedisChannelLayer(RedisChannelLayer):
    """channels-redis, with a receive that a cancelled consumer cannot make lose a message, and a quiet clean-up."""

    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> Any:
        """Upstream pops (BZPOPMIN) and only then copies the message to its backup queue, in a second command: a
        consumer cancelled in between (a client leaving) lost the message for every socket of the process
        (channels_redis#366). The pop and the copy now finish together; what a cancelled receive took waits in
        the backup queue, which the next receive puts back at the front of the channel."""
        pop = asyncio.ensure_future(super()._brpop_with_clean(index, channel, timeout))
        try:
            return await asyncio.shield(pop)
        except asyncio.CancelledError:
            await asyncio.wait([pop])  # keep the receive lock until the message is safe in the backup queue
            if not pop.cancelled() and pop.exception() is not None:
                logger.warning("a cancelled receive's pop failed too: %s", pop.exception())
            raise

    async def _clean_receive_backup(self, index: int, channel: str) -> None:
        """Upstream runs this as a task nobody awaits; a failure because Redis just went away is only a warning."""
        await quietly(super()._clean_receive_backup(index, channel), "clearing the receive backup")
