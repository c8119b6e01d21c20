"""Django's ASGI handler with sync views served in one thread hop instead of one per middleware.

Under ASGI, Django runs the middleware chain in async mode: each MiddlewareMixin middleware then hands its
process_request and process_response to a thread, and a sync-only middleware hands the rest of the chain back to the
event loop, so one request of a sync view crossed between the loop and a thread some 16 times
(bench/request_profile_RESULTS.md has the figures). Every page view of this site is sync; the health checks are
async. So a request whose view is sync runs the whole sync chain in one thread, as WSGI would; a request whose view is
async keeps Django's async chain and stays on the event loop. Either chain reuses the URL match made to choose it.

Django gives each request a thread of its own (a ThreadSensitiveContext), started for it and joined by yet another
thread when it ends. Here a request borrows one of the process's HTTP_SYNC_THREADS threads instead, and a request
finding none free waits its turn on the event loop: no threads started per request, and no more requests running sync
code at once than the threads the setting names, so no more open database connections either (bench/RESULTS.md has
the figures).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver

from config.per_loop import OnePerEventLoop


class ResolvesOnce(BaseHandler):
    """A handler that takes the URL match view_is_async already made, instead of resolving the path again."""

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if request.resolver_match is not None and not hasattr(request, "urlconf"):
            return request.resolver_match
        match: ResolverMatch = super().resolve_request(request)  # a middleware chose another URLconf, or a 404
        return match


class OneHopASGIHandler(ResolvesOnce, ASGIHandler):
    """An ASGIHandler whose sync views run with the middleware in one sync_to_async call."""

    def __init__(self) -> None:
        super().__init__()  # the async chain, for async views
        self.sync_handler = ResolvesOnce()
        self.sync_handler.load_middleware(is_async=False)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django refuses it
        async with SyncThreads.of_this_loop().lend() as thread, ThreadSensitiveContext(executor=thread):
            await self.handle(scope, receive, send)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        if view_is_async(request):
            return await super().get_response_async(request)
        response: HttpResponseBase = await sync_to_async(self.sync_handler.get_response, thread_sensitive=True)(request)
        return response


def view_is_async(request: HttpRequest) -> bool:
    """Whether the URL routes to an async view (an unknown URL is answered by the sync chain's 404); the match is kept
    on the request for the chain that serves it."""
    try:
        match: Any = get_resolver().resolve(request.path_info)
    except Resolver404:
        return False
    request.resolver_match = match
    return iscoroutinefunction(match.func)


_threads: list[ThreadPoolExecutor] = []
_threads_lock = threading.Lock()


def process_threads() -> list[ThreadPoolExecutor]:
    """The process's HTTP_SYNC_THREADS threads (each an executor of one thread), made once, shared by every event
    loop."""
    with _threads_lock:
        while len(_threads) < settings.HTTP_SYNC_THREADS:
            _threads.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"academy-sync-{len(_threads)}"))
        return _threads[: settings.HTTP_SYNC_THREADS]


class SyncThreads(OnePerEventLoop):
    """Lends each request one of the process's sync threads for as long as Django handles it (a request whose client
    left mid-view still waits for its view, to send request_finished on the same thread); a request finding none free
    waits for one."""

    def __init__(self) -> None:
        self.free: asyncio.Queue[ThreadPoolExecutor] = asyncio.Queue()
        for thread in process_threads():
            self.free.put_nowait(thread)
        self.waiting = 0  # requests queued for a thread

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[ThreadPoolExecutor]:
        self.waiting += 1
        try:
            thread = await self.free.get()
        finally:
            self.waiting -= 1
        try:
            yield thread
        finally:
            self.free.put_nowait(thread)
