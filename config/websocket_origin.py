"""The WebSocket Origin check: a page may open the site's sockets only from one of the site's own origins.

A browser sends the page's origin (scheme, host and port) with every handshake and the site's cookies with it,
so a page served from another port or scheme of the same host name is another site and is refused
(docs/architecture.md, "Security"). The site's own origins are the request's own (its Host, which must be in
ALLOWED_HOSTS, with the scheme the browser used) and those listed in CSRF_TRUSTED_ORIGINS.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the scope type types-channels gives every consumer

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host name (lower case, IPv6 without brackets), port


def parse_origin(url: str) -> Origin | None:
    """An http(s) origin with its port made explicit, or None for anything else (`null`, a file page, junk)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, parts.hostname.lower(), port


def header(scope: _ChannelScope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def request_scheme(scope: _ChannelScope) -> str:
    """The scheme the browser used, as Django's request.scheme decides it (SECURE_PROXY_SSL_HEADER behind a proxy)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = header(scope, meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode())
        if forwarded is not None:
            return "https" if forwarded.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def own_origin(scope: _ChannelScope) -> Origin | None:
    """The origin the handshake was addressed to, if its Host is one of ALLOWED_HOSTS (else a rebound name)."""
    host = header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return parse_origin(f"{request_scheme(scope)}://{host}")


def trusted(origin: str, parsed: Origin) -> bool:
    """Listed in CSRF_TRUSTED_ORIGINS, wildcard subdomains (https://*.example.org) matched as Django's CSRF does."""
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in entry:
            scheme, _, pattern = entry.partition("://")
            if parsed[0] == scheme.lower() and is_same_domain(urlsplit(origin).netloc.lower(), pattern.lstrip("*")):
                return True
        elif parse_origin(entry) == parsed:
            return True
    return False


def origin_allowed(scope: _ChannelScope) -> bool:
    origin = header(scope, b"origin")
    parsed = parse_origin(origin) if origin else None
    if origin is None or parsed is None:
        return False
    return parsed == own_origin(scope) or trusted(origin, parsed)


class SameOriginValidator:
    """Refuses (403 at the handshake) a WebSocket whose Origin is not one of the site's own origins."""

    def __init__(self, application: Any) -> None:  # types-channels types AuthMiddlewareStack's result as a union
        self.application = application

    async def __call__(self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.info("refused a WebSocket to %s from origin %r", scope["path"], header(scope, b"origin"))
            await WebsocketDenier()(scope, receive, send)
            return
        await self.application(scope, receive, send)
