"""WebSocket routes: every app's routes behind the same-origin check and the session, plus the public live route."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import URLPattern, re_path

from config.socket_caps import SocketCaps
from config.websocket_origin import SameOriginValidator
from dashboards import routing as dashboards_routing
from playground import routing as playground_routing

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the scope type types-channels gives every consumer

# Close code for a WebSocket path that no route serves (an application code, like HTTP 404).
CLOSE_NOT_FOUND = 4404


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Refuses a handshake on an unknown path cleanly instead of raising a routing traceback."""

    async def connect(self) -> None:
        await self.close(code=CLOSE_NOT_FOUND)


# django-stubs types re_path() for Django views only; channels' URLRouter routes ASGI applications this way.
not_found_route = re_path(r"", NotFoundConsumer.as_asgi())  # type: ignore[arg-type]

# Routes that carry the learner's session and require one of the site's own origins (scheme, host and port); each app's list is added here.
session_websocket_urlpatterns: list[URLPattern] = [
    *playground_routing.session_routes,
    *dashboards_routing.session_routes,
]

# Routes authorised by an unguessable token alone (docs/architecture.md: the live endpoint).
public_websocket_urlpatterns: list[URLPattern] = [*playground_routing.public_routes]

PUBLIC_PREFIX = "/ws/live/"


class WebsocketDispatcher:
    """Sends /ws/live/ to the token-authorised router and everything else through the guarded stack; both count
    against the socket caps (the live route has no user, so only its address's)."""

    def __init__(self) -> None:
        # types-channels wants its check-only _ExtendedURLPattern, which no public call returns; re_path() and path()
        # give the URLPattern that URLRouter really takes.
        self.public = SocketCaps(URLRouter([*public_websocket_urlpatterns, not_found_route]))  # type: ignore[list-item]
        self.guarded = SameOriginValidator(
            AuthMiddlewareStack(SocketCaps(URLRouter([*session_websocket_urlpatterns, not_found_route])))  # type: ignore[list-item]
        )

    async def __call__(self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["path"].startswith(PUBLIC_PREFIX):
            await self.public(scope, receive, send)
        else:
            await self.guarded(scope, receive, send)


websocket_application = WebsocketDispatcher()
