"""WebSocket routes of the playground."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import re_path

from playground.consumers import OwningPlaygroundConsumer
from playground.live import LiveProxyConsumer
from playground.relay import RelayingPlaygroundConsumer
from playground.watch import RunWatchConsumer

PAGE_SOCKETS = {"page": OwningPlaygroundConsumer.as_asgi(), "workers": RelayingPlaygroundConsumer.as_asgi()}


async def playground_socket(scope: dict, receive: Any, send: Any) -> None:
    """The page's socket owns its run here or relays it to a worker, as settings.PLAYGROUND_EXECUTION says."""
    await PAGE_SOCKETS[settings.PLAYGROUND_EXECUTION](scope, receive, send)


session_routes = [
    re_path(r"^ws/playground/$", playground_socket),
    re_path(r"^ws/runs/(?P<run_id>\d+)/watch/$", RunWatchConsumer.as_asgi()),
]
public_routes = [re_path(r"^ws/live/(?P<token>[A-Za-z0-9_\-]{20,64})/(?P<path>.*)$", LiveProxyConsumer.as_asgi())]
