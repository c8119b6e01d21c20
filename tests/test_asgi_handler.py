"""config.asgi_handler: a sync page costs one thread hop for the whole middleware chain; async views stay async."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.test import RequestFactory
from django.urls.resolvers import URLResolver

from config.asgi_handler import OneHopASGIHandler, view_is_async

pytestmark = pytest.mark.django_db(transaction=True)


async def get(app, path: str) -> int:
    """The status of one GET through an ASGI app, in this process."""
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
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]


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
