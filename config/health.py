"""Health endpoints: /livez says the process answers, /healthz says it is ready (database, Redis, sandbox).

Both are answered on the event loop, before Django's middleware (`HealthProbes`): a probe waits for no request thread,
no connection pool and no consumer, so it measures the process and its services, not the traffic they carry. The
public answer is only ok / not ok; which check failed and why (database vendor, layer class, sandbox mode, error
text, how long each took) is for staff users (their requests carry a session, so they go through Django to be
identified) and for requests carrying settings.HEALTHZ_TOKEN in the X-Healthz-Token header.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import psycopg
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

TOKEN_HEADER = "X-Healthz-Token"
PATHS = ("/livez", "/healthz")


def probe_connection_params() -> dict[str, Any]:
    """Django's own connection parameters for an async psycopg connection, bounded by the check's time."""
    params = dict(connection.get_connection_params())
    for sync_only in ("cursor_factory", "context"):  # a sync cursor class; adapters of Django's sync connection
        params.pop(sync_only, None)
    params.setdefault("connect_timeout", max(1, settings.HEALTHZ_CHECK_SECONDS))
    # Named apart from the requests' connections, so an operator (and tests/test_db_pool.py) can tell the one connection
    # readiness keeps per process from those Django opens per request or pools.
    params["application_name"] = f"{os.environ.get('PGAPPNAME') or 'academy'} readiness"
    return params


# Readiness's own PostgreSQL connection, one per event loop (one per server process), kept between probes: opening a
# connection per probe (a server process forked per connection) was most of a probe's time on a loaded machine.
_probe_connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, psycopg.AsyncConnection[Any]] = (
    weakref.WeakKeyDictionary()
)


def forget_connections_of_closed_loops() -> None:
    """Close (without a loop: libpq's own close) the probe connections of event loops that are gone (tests)."""
    for loop in [loop for loop in list(_probe_connections) if loop.is_closed()]:
        _probe_connections.pop(loop).pgconn.finish()


async def select_one_on_the_loop() -> None:
    """SELECT 1 on this process's probe connection; one that fails (a restarted server) is replaced once at once."""
    forget_connections_of_closed_loops()
    loop = asyncio.get_running_loop()
    while True:
        probe = _probe_connections.get(loop)
        fresh = probe is None or probe.closed
        try:
            if probe is None or probe.closed:
                probe = _probe_connections[loop] = await psycopg.AsyncConnection.connect(
                    **probe_connection_params(), autocommit=True
                )
            await probe.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            await drop_probe_connection(loop)
            if fresh:  # a connection just opened failed: the database is not reachable
                raise
        except BaseException:  # cancelled (timed out) mid-query: the connection is in no known state
            await drop_probe_connection(loop)
            raise


async def drop_probe_connection(loop: asyncio.AbstractEventLoop) -> None:
    dropped = _probe_connections.pop(loop, None)
    if dropped is not None:
        await asyncio.shield(dropped.close())


def select_one_in_django() -> None:
    """SELECT 1 through Django's connection (SQLite in development), in a thread of its own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def timed(check: Callable[[], Awaitable[dict[str, object]]], what: str) -> dict[str, object]:
    """A check's answer and how long it took; one that does not answer within HEALTHZ_CHECK_SECONDS has failed."""
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(check(), settings.HEALTHZ_CHECK_SECONDS)
    except TimeoutError:
        result = {"ok": False, "error": f"{what} did not answer within {settings.HEALTHZ_CHECK_SECONDS} s"}
    return {**result, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def check_database() -> dict[str, object]:
    """A trivial query; on PostgreSQL over a connection of readiness's own, on the event loop. Failures are reported."""
    vendor = connection.vendor
    try:
        if vendor == "postgresql":
            await select_one_on_the_loop()
        else:
            await asyncio.to_thread(select_one_in_django)
    except Exception as exc:  # noqa: BLE001 - health must report every failure
        return {"ok": False, "vendor": vendor, "error": str(exc) or type(exc).__name__}
    return {"ok": True, "vendor": vendor}


async def check_channel_layer() -> dict[str, object]:
    """Redis answers a PING on each of the layer's own connection pools.

    Not a round trip through a process-local channel: channels-redis receives every process-local channel of a
    process through one shared receive lock, so such a ping would test the consumers' receive loops and wait behind
    them. A layer without Redis gets a send to a fresh channel (nothing receives it; it expires)."""
    layer = get_channel_layer()
    backend = type(layer).__name__
    if layer is None:
        return {"ok": False, "backend": backend, "error": "no channel layer is configured (CHANNEL_LAYERS)"}
    try:
        if isinstance(layer, RedisChannelLayer):
            for index in range(layer.ring_size):
                await layer.connection(index).ping()
        else:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "healthz.ping"})
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "backend": backend, "error": str(exc) or type(exc).__name__}
    return {"ok": True, "backend": backend}


async def check_sandbox() -> dict[str, object]:
    """This process's sandbox gate; a web process whose runs live on workers has none and says where they run."""
    if settings.PLAYGROUND_EXECUTION == "workers":
        return {"ok": True, "execution": "workers", "worker_channel": settings.PLAYGROUND_WORKER_CHANNEL}
    from playground.sandbox_supply import health as sandbox_health

    return await sandbox_health()


async def readiness() -> dict[str, dict[str, object]]:
    """Every check at once, each within HEALTHZ_CHECK_SECONDS except the sandbox gate's first run (seconds, once)."""
    database, layer = await asyncio.gather(timed(check_database, "the database"), timed(check_channel_layer, "Redis"))
    return {"database": database, "channel_layer": layer, "sandbox": await check_sandbox()}


def token_matches(given: str) -> bool:
    """The operator's token, compared in constant time; nobody matches while HEALTHZ_TOKEN is empty."""
    token = settings.HEALTHZ_TOKEN
    return bool(token and given and hmac.compare_digest(given.encode(), token.encode()))


async def answer(show_details: bool) -> tuple[int, dict[str, object]]:
    """/healthz's status and body."""
    checks = await readiness()
    healthy = all(check["ok"] for check in checks.values())
    body: dict[str, object] = {"ok": healthy}
    if show_details:
        body["checks"] = checks
    return (200 if healthy else 503), body


async def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process's event loop answers. Touches neither the database nor Redis, so a restart of either
    never makes a supervisor kill healthy processes."""
    return JsonResponse({"ok": True})


async def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness through Django, for a request with a session: details for staff (or the token)."""
    shown = token_matches(request.headers.get(TOKEN_HEADER, ""))
    if not shown and request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        user = await request.auser()
        shown = bool(user.is_active and user.is_staff)
    status, body = await answer(shown)
    return JsonResponse(body, status=status)


def has_session(scope: dict[str, Any]) -> bool:
    """Whether the request carries the session cookie (a staff user may be asking)."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            try:
                if settings.SESSION_COOKIE_NAME in SimpleCookie(value.decode("latin-1")):
                    return True
            except CookieError:
                return True  # let Django read what it can of it
    return False


class HealthProbes:
    """ASGI: GET or HEAD /livez and /healthz answered here, on the event loop; everything else, and a /healthz with a
    session cookie (a staff user's details), goes to the inner app."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in PATHS or scope["method"] not in ("GET", "HEAD") or (path == "/healthz" and has_session(scope)):
            await self.inner(scope, receive, send)
            return
        status: int = 200
        body: dict[str, object] = {"ok": True}
        if path == "/healthz":
            given = next((v.decode("latin-1") for k, v in scope["headers"] if k == TOKEN_HEADER.lower().encode()), "")
            status, body = await answer(token_matches(given))
        content = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})
