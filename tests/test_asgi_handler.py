"""config.asgi_handler: a sync page costs one thread hop for the whole middleware chain; async views stay async; sync
code runs on the process's few sync threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path
from django.urls.resolvers import URLResolver

from config.asgi_handler import OneHopASGIHandler, SyncThreads, view_is_async

pytestmark = pytest.mark.django_db(transaction=True)


async def get(app, path: str, client_leaves: asyncio.Event | None = None) -> int:
    """The status of one GET through an ASGI app, in this process (0 if the client left before an answer)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    pending = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await (client_leaves or asyncio.Event()).wait()  # without an event the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"] if sent else 0


def hops_of_one_request(app, path: str, monkeypatch) -> tuple[int, int]:
    """(status, sync_to_async calls) of one request: each call is a hop from the event loop to a thread."""
    calls = []
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        calls.append(self.func)
        return await original(self, *args, **kwargs)

    asyncio.run(get(app, path))  # warm: the first request also resolves and imports
    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    status = asyncio.run(get(app, path))
    monkeypatch.setattr(SyncToAsync, "__call__", original)
    return status, len(calls)


def test_a_sync_page_crosses_to_a_thread_once_for_all_its_middleware(monkeypatch):
    status, hops = hops_of_one_request(OneHopASGIHandler(), "/lessons/", monkeypatch)
    django_status, django_hops = hops_of_one_request(ASGIHandler(), "/lessons/", monkeypatch)
    assert status == django_status == 200
    assert hops <= 3, hops  # request_started, the page, request_finished
    assert django_hops > 2 * hops, django_hops  # what Django's own handler costs with this site's middleware


def test_an_unknown_url_gets_the_sites_404_through_the_sync_chain(monkeypatch):
    status, hops = hops_of_one_request(OneHopASGIHandler(), "/no/such/page/", monkeypatch)
    assert status == 404 and hops <= 3


def test_async_views_keep_djangos_async_chain():
    factory = RequestFactory()
    assert view_is_async(factory.get("/livez"))
    assert not view_is_async(factory.get("/lessons/"))
    assert not view_is_async(factory.get("/no/such/page/"))
    assert asyncio.run(get(OneHopASGIHandler(), "/livez")) == 200


@pytest.mark.parametrize("path", ["/lessons/", "/livez"])
def test_a_request_resolves_its_url_once(path, monkeypatch):
    app = OneHopASGIHandler()
    asyncio.run(get(app, path))  # warm
    resolved = []
    original = URLResolver.resolve

    def counted(self, *args, **kwargs):
        if self.pattern.regex.pattern in {"^/", ""}:  # the root resolver, not the included ones it consults
            resolved.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(URLResolver, "resolve", counted)
    assert asyncio.run(get(app, path)) == 200
    assert len(resolved) == 1, resolved


# A URLconf of this module's own for the thread tests: a view that holds its thread until the test lets it go.
HELD: dict[str, threading.Event] = {}
ENTERED: list[tuple[str, str]] = []


def hold(request, name: str):
    """Record which thread runs it, then keep that thread until the test sets the request's event."""
    ENTERED.append((name, threading.current_thread().name))
    released = HELD.setdefault(name, threading.Event())
    if not released.wait(timeout=30):
        raise AssertionError(f"request {name} was never released")
    return HttpResponse(name)


urlpatterns = [path("hold/<str:name>/", hold)]
TWO_THREADS = {"academy-sync-0_0", "academy-sync-1_0"}  # the names of the first two sync threads


async def until(condition, what: str) -> None:
    """Wait for a condition the event loop or a sync thread brings about."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


@pytest.fixture
def hold_urls(settings):
    settings.ROOT_URLCONF = __name__
    HELD.clear()
    ENTERED.clear()
    yield settings
    for event in HELD.values():
        event.set()


def release(name: str) -> None:
    HELD.setdefault(name, threading.Event()).set()


async def test_no_more_requests_run_sync_code_at_once_than_the_setting_names(hold_urls):
    hold_urls.HTTP_SYNC_THREADS = 2
    app = OneHopASGIHandler()
    requests = [asyncio.create_task(get(app, f"/hold/{name}/")) for name in "abc"]
    await until(lambda: len(ENTERED) == 2, "two requests in their views")
    threads = SyncThreads.of_this_loop()
    await until(lambda: threads.waiting == 1, "the third queued for a thread")
    assert len(ENTERED) == 2  # the third has not started its view
    first = ENTERED[0][0]
    release(first)
    await until(lambda: len(ENTERED) == 3, "the third in its view")
    assert ENTERED[2][1] == ENTERED[0][1]  # on the thread the first gave back
    for name in "abc":
        release(name)
    assert await asyncio.gather(*requests) == [200, 200, 200]
    assert {thread for _, thread in ENTERED} == TWO_THREADS


async def test_requests_one_after_another_reuse_the_same_threads(hold_urls):
    hold_urls.HTTP_SYNC_THREADS = 2
    app = OneHopASGIHandler()
    for name in "defgh":
        release(name)
        assert await get(app, f"/hold/{name}/") == 200
    assert {thread for _, thread in ENTERED} <= TWO_THREADS


async def test_a_client_leaving_mid_view_keeps_its_thread_and_the_others_serve_on(hold_urls):
    """Django stops waiting for the view of a client gone, but sends request_finished on the view's thread when it
    ends: the thread stays lent till then, and other requests go to the other threads."""
    hold_urls.HTTP_SYNC_THREADS = 2
    app = OneHopASGIHandler()
    left = asyncio.Event()
    abandoned = asyncio.create_task(get(app, "/hold/gone/", client_leaves=left))
    await until(lambda: len(ENTERED) == 1, "the leaving client's view started")
    left.set()
    for name in "xyz":
        release(name)
        assert await get(app, f"/hold/{name}/") == 200
    assert not abandoned.done()
    gone_thread = ENTERED[0][1]
    assert {thread for _, thread in ENTERED[1:]} == TWO_THREADS - {gone_thread}
    release("gone")
    assert await abandoned == 0  # nothing sent to a client that left
    release("after")
    assert await get(app, "/hold/after/") == 200


def test_only_http_is_served():
    with pytest.raises(ValueError, match="only handle ASGI/HTTP"):
        asyncio.run(OneHopASGIHandler()({"type": "websocket"}, None, None))
