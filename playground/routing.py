"""WebSocket routes of the playground."""

from __future__ import annotations

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from django.conf import settings
from django.urls import URLPattern, path, re_path

from playground.consumers import OwningPlaygroundConsumer
from playground.live import LiveProxyConsumer
from playground.relay import RelayingPlaygroundConsumer
from playground.watch import RunWatchConsumer

PAGE_SOCKETS = {"page": OwningPlaygroundConsumer.as_asgi(), "workers": RelayingPlaygroundConsumer.as_asgi()}


async def playground_socket(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """The page's socket owns its run here or relays it to a worker, as settings.PLAYGROUND_EXECUTION says."""
    await PAGE_SOCKETS[settings.PLAYGROUND_EXECUTION](scope, receive, send)


# django-stubs types re_path() for Django views only; channels' URLRouter routes ASGI applications this way.
session_routes: list[URLPattern] = [
    re_path(r"^ws/playground/$", playground_socket),  # type: ignore[arg-type]
    path("ws/runs/<id:run_id>/watch/", RunWatchConsumer.as_asgi()),  # type: ignore[arg-type]
]
public_routes: list[URLPattern] = [
    re_path(r"^ws/live/(?P<token>[A-Za-z0-9_\-]{20,64})/(?P<path>.*)$", LiveProxyConsumer.as_asgi())  # type: ignore[arg-type]
]
