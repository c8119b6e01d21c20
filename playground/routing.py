"""WebSocket routes of the playground."""

from __future__ import annotations

from django.urls import re_path

from playground.consumers import PlaygroundConsumer
from playground.live import LiveProxyConsumer
from playground.watch import RunWatchConsumer

session_routes = [
    re_path(r"^ws/playground/$", PlaygroundConsumer.as_asgi()),
    re_path(r"^ws/runs/(?P<run_id>\d+)/watch/$", RunWatchConsumer.as_asgi()),
]
public_routes = [re_path(r"^ws/live/(?P<token>[A-Za-z0-9_\-]{20,64})/(?P<path>.*)$", LiveProxyConsumer.as_asgi())]
