"""Health endpoints: /livez says the process answers, /healthz says it is ready (database, Redis, sandbox).

The public answer is only ok / not ok; which check failed and why (database vendor, layer class, sandbox mode, error
text) is for staff users and for requests carrying settings.HEALTHZ_TOKEN in the X-Healthz-Token header.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

TOKEN_HEADER = "X-Healthz-Token"


def check_database() -> dict[str, object]:
    """Run a trivial query; any failure is reported, not raised."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - health must report every failure
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)}


async def within_time(check: Awaitable[dict[str, object]], what: str) -> dict[str, object]:
    """A check that does not answer within HEALTHZ_CHECK_SECONDS has failed."""
    try:
        return await asyncio.wait_for(check, settings.HEALTHZ_CHECK_SECONDS)
    except TimeoutError:
        return {"ok": False, "error": f"{what} did not answer within {settings.HEALTHZ_CHECK_SECONDS} s"}


async def check_channel_layer() -> dict[str, object]:
    """Redis answers a PING on each of the layer's own connection pools.

    Not a round trip through a process-local channel: channels-redis receives every process-local channel of a
    process through one shared receive lock, so such a ping would test the consumers' receive loops and wait behind
    them. A layer without Redis gets a send to a fresh channel (nothing receives it; it expires)."""
    layer = get_channel_layer()
    backend = type(layer).__name__
    if layer is None:
        return {"ok": False, "backend": backend, "error": "no channel layer is configured (CHANNEL_LAYERS)"}
    started = time.perf_counter()
    try:
        if isinstance(layer, RedisChannelLayer):
            for index in range(layer.ring_size):
                await layer.connection(index).ping()
        else:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "healthz.ping"})
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "backend": backend, "error": str(exc) or type(exc).__name__}
    return {"ok": True, "backend": backend, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def check_sandbox() -> dict[str, object]:
    """This process's sandbox gate; a web process whose runs live on workers has none and says where they run."""
    if settings.PLAYGROUND_EXECUTION == "workers":
        return {"ok": True, "execution": "workers", "worker_channel": settings.PLAYGROUND_WORKER_CHANNEL}
    from playground.sandbox_supply import health as sandbox_health

    return await sandbox_health()


async def may_see_details(request: HttpRequest) -> bool:
    """Staff, or the operator's token (constant-time compare); nobody by token while HEALTHZ_TOKEN is empty."""
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get(TOKEN_HEADER, "")
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return False  # a probe: no session to read, so no database query
    user = await request.auser()
    return bool(user.is_active and user.is_staff)


async def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process's event loop answers. Touches neither the database nor Redis, so a restart of either
    never makes a supervisor kill healthy processes."""
    return JsonResponse({"ok": True})


async def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, Redis and the sandbox gate answer, 503 otherwise; details on request."""
    database, layer = await asyncio.gather(
        within_time(sync_to_async(check_database)(), "the database"),
        within_time(check_channel_layer(), "Redis"),
    )
    checks = {"database": database, "channel_layer": layer, "sandbox": await check_sandbox()}
    healthy = all(check["ok"] for check in checks.values())
    body: dict[str, object] = {"ok": healthy}
    if await may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)
