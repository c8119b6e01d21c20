"""Caps on the WebSockets one user and one client address hold open at once; a socket over a cap closes with 4013.

Every WebSocket route passes through SocketCaps (config/routing.py). Each open socket holds a slot per cap it
counts against: with a Redis cache the slots are members of a sorted set per user and per address, shared by every
process and leased for SLOT_LEASE_SECONDS (renewed while the socket is open), so the slots of a process that died
free themselves; with the in-memory cache (one process) they are a set in memory.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError

from config.per_loop import OnePerEventLoop
from config.proxy import client_ip

logger = logging.getLogger(__name__)

CLOSE_TOO_MANY = 4013  # like HTTP 503/429 "try again later"; a page does not reconnect on it
SLOT_LEASE_SECONDS = 60.0  # a slot whose process stopped renewing it (it died) is free after this
DEFAULT_PREFIX = "academy"  # the Redis keys' prefix when the cache sets none
RENEW_EVERY_SECONDS = SLOT_LEASE_SECONDS / 3

# KEYS[1] the set; ARGV cap, member, lease. Drops expired slots, then takes one if fewer than cap are held.
TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
return 1
"""
# KEYS[1] the set; ARGV member, lease. Extends a slot still held.
RENEW_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class Slots(Protocol):
    async def take(self, key: str, cap: int, member: str, lease: float) -> bool: ...
    async def renew(self, key: str, member: str, lease: float) -> None: ...
    async def release(self, key: str, member: str) -> None: ...


class MemorySlots:
    """One process's slots (the in-memory default): a socket's slot lives exactly as long as the socket."""

    def __init__(self) -> None:
        self.held: dict[str, set[str]] = {}

    async def take(self, key: str, cap: int, member: str, lease: float) -> bool:
        members = self.held.setdefault(key, set())
        if len(members) >= cap:
            return False
        members.add(member)
        return True

    async def renew(self, key: str, member: str, lease: float) -> None:
        """Nothing to renew: a process's memory dies with its sockets."""

    async def release(self, key: str, member: str) -> None:
        members = self.held.get(key, set())
        members.discard(member)
        if not members:
            self.held.pop(key, None)


class RedisSlots:
    """Slots shared by every process through Redis, leased so that a dead process's slots expire."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()

    def client(self) -> aioredis.Redis:
        """One client per event loop (Daphne has one; each async test has its own)."""
        loop = asyncio.get_running_loop()
        if loop not in self.clients:
            self.clients[loop] = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
        return self.clients[loop]

    def name(self, key: str) -> str:
        return f"{self.prefix}:wsslots:{key}"

    async def take(self, key: str, cap: int, member: str, lease: float) -> bool:
        return bool(await self.client().eval(TAKE_SCRIPT, 1, self.name(key), cap, member, lease))

    async def renew(self, key: str, member: str, lease: float) -> None:
        await self.client().eval(RENEW_SCRIPT, 1, self.name(key), member, lease)

    async def release(self, key: str, member: str) -> None:
        await self.client().zrem(self.name(key), member)


_slots: Slots | None = None


def get_slots() -> Slots:
    """Redis when the site's cache is Redis (shared by the processes), else this process's memory."""
    global _slots
    if _slots is None:
        cache = settings.CACHES["default"]
        if cache["BACKEND"].endswith("RedisCache"):
            _slots = RedisSlots(cache["LOCATION"], cache.get("KEY_PREFIX", "") or DEFAULT_PREFIX)
        else:
            _slots = MemorySlots()
    return _slots


def address_key(address: str) -> str:
    """The slot key of the sockets from one client address."""
    return f"ip:{address}"


def caps_for(scope: dict[str, Any]) -> list[tuple[str, int]]:
    """The (slot key, cap) pairs this socket counts against: its address, and its user when signed in."""
    caps = [(address_key(client_ip(scope)), settings.WEBSOCKET_MAX_PER_IP)]
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        caps.append((f"user:{user.pk}", settings.WEBSOCKET_MAX_PER_USER))
    return caps


class SocketCaps:
    """ASGI middleware: a WebSocket within every cap goes on to the app, holding its slots until it ends; one over a
    cap is accepted and closed with CLOSE_TOO_MANY, so the page can tell the visitor why."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.application(scope, receive, send)
            return
        slots = get_slots()
        member = uuid.uuid4().hex
        held: list[str] = []
        try:
            for key, cap in caps_for(scope):
                if not await self.take(slots, key, cap, member):
                    logger.info("WebSocket to %s refused: %s holds %s sockets already", scope["path"], key, cap)
                    await refuse(receive, send)
                    return
                held.append(key)
            leases = SlotRenewer.of_this_loop()
            leases.add(member, slots, held)
            try:
                await self.application(scope, receive, send)
            finally:
                leases.discard(member)
        finally:
            for key in held:
                await release_quietly(slots, key, member)

    async def take(self, slots: Slots, key: str, cap: int, member: str) -> bool:
        """Take a slot; a Redis that cannot be reached lets the socket in (the site keeps working) and says so."""
        try:
            return await slots.take(key, cap, member, SLOT_LEASE_SECONDS)
        except (RedisError, OSError) as exc:
            logger.warning("socket cap not checked (%s): %s", key, exc)
            return True


class SlotRenewer(OnePerEventLoop):
    """One event loop's held slots, renewed every RENEW_EVERY_SECONDS by one task that runs while any are held (an
    idle socket used to keep a sleeping task of its own for this)."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[Slots, list[str]]] = {}  # member -> (its slots, the keys it holds a slot under)
        self.task: asyncio.Task[None] | None = None

    def add(self, member: str, slots: Slots, keys: list[str]) -> None:
        self.held[member] = (slots, keys)
        if self.task is None:
            self.task = asyncio.create_task(self.renew_forever())

    def discard(self, member: str) -> None:
        self.held.pop(member, None)
        if not self.held and self.task is not None:
            self.task.cancel()
            self.task = None

    async def renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_SECONDS)
            for member, (slots, keys) in list(self.held.items()):
                for key in keys:
                    if member not in self.held:  # its socket closed during this pass
                        break
                    try:
                        await slots.renew(key, member, SLOT_LEASE_SECONDS)
                    except (RedisError, OSError) as exc:
                        logger.warning("could not renew a socket slot (%s): %s", key, exc)


async def release_quietly(slots: Slots, key: str, member: str) -> None:
    try:
        await slots.release(key, member)
    except (RedisError, OSError) as exc:  # the lease frees it later
        logger.warning("could not release a socket slot (%s): %s", key, exc)


async def refuse(receive: Any, send: Any) -> None:
    """Accept, then close with CLOSE_TOO_MANY: a browser sees the code (a refused handshake would show only 1006)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_TOO_MANY})
