"""GET /healthz: the state of each dependency, for load balancers and operators."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

LAYER_TIMEOUT_SECONDS = 2.0


def check_database() -> dict[str, object]:
    """Run a trivial query; any failure is reported, not raised."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - health must report every failure
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)}


async def check_channel_layer() -> dict[str, object]:
    """Send a message to a fresh channel and receive it back through the configured layer."""
    layer = get_channel_layer()
    backend = type(layer).__name__
    if layer is None:
        return {"ok": False, "backend": backend, "error": "no channel layer is configured (CHANNEL_LAYERS)"}
    started = time.perf_counter()
    try:
        channel = await layer.new_channel()
        token = uuid.uuid4().hex
        await asyncio.wait_for(layer.send(channel, {"type": "healthz.ping", "token": token}), LAYER_TIMEOUT_SECONDS)
        message = await asyncio.wait_for(layer.receive(channel), LAYER_TIMEOUT_SECONDS)
        if message.get("token") != token:
            return {"ok": False, "backend": backend, "error": "round trip returned a different message"}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "backend": backend, "error": str(exc) or type(exc).__name__}
    return {"ok": True, "backend": backend, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def check_sandbox() -> dict[str, object]:
    """This process's sandbox gate; a web process whose runs live on workers has none and says where they run."""
    if settings.PLAYGROUND_EXECUTION == "workers":
        return {"ok": True, "execution": "workers", "worker_channel": settings.PLAYGROUND_WORKER_CHANNEL}
    from playground.sandbox_supply import health as sandbox_health

    return await sandbox_health()


async def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 otherwise, with the details as JSON."""
    checks = {
        "database": await sync_to_async(check_database)(),
        "channel_layer": await check_channel_layer(),
        "sandbox": await check_sandbox(),
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
