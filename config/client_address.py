"""The client's address: X-Forwarded-For is believed only when the connection comes from a trusted proxy (nginx).

Daphne runs without --proxy-headers, which would take X-Forwarded-For from anyone who can reach it; this middleware
puts the address nginx saw into scope["client"] (Django's REMOTE_ADDR) only when the TCP peer is one of
TRUSTED_PROXY_ADDRESSES, so the lock-outs, throttles and socket caps that count per address cannot be dodged.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from django.conf import settings


def normalized(address: str) -> str:
    """One spelling per address (IPv6 compressed, IPv4-mapped IPv6 as IPv4); junk is returned as it was."""
    try:
        parsed = ip_address(address.strip().strip("[]"))
    except ValueError:
        return address.strip()
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)


def forwarded_for(scope: dict[str, Any]) -> list[str]:
    values = [bytes(v).decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
    return [normalized(part) for value in values for part in value.split(",") if part.strip()]


def client_ip(scope: dict[str, Any]) -> str:
    """The address of whoever opened this connection: the peer, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For that is not itself a trusted proxy."""
    client = scope.get("client")
    peer = normalized(str(client[0])) if client else ""
    trusted = {normalized(address) for address in settings.TRUSTED_PROXY_ADDRESSES}
    if peer not in trusted:
        return peer
    for address in reversed(forwarded_for(scope)):  # the proxy nearest to us appended the last one
        if address not in trusted:
            return address
    return peer


class ClientAddressMiddleware:
    """ASGI middleware for HTTP and WebSockets: scope["client"] becomes the client's address (see client_ip)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            address = client_ip(scope)
            if address != scope["client"][0]:
                scope = {**scope, "client": [address, 0]}
        await self.application(scope, receive, send)
