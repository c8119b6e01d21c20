"""X-Forwarded-For and X-Forwarded-Proto, believed from the proxies in settings.TRUSTED_PROXY_ADDRESSES only.

Behind the shipped nginx the TLS ends at nginx, so Daphne sees plain HTTP from 127.0.0.1: the scheme the browser used
(https, wss) and its address come from nginx's headers. A client that reaches Daphne itself could send the same
headers, so they are believed only when the connection comes from a trusted proxy, and dropped otherwise, so nothing
further in (Django's SECURE_PROXY_SSL_HEADER, the Origin check, the live URL, django-axes, the sign-up throttles and
the socket caps that count per address) sees a client's own claim. Daphne runs without --proxy-headers, which would
believe X-Forwarded-For from anyone.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

FORWARDED_FOR = b"x-forwarded-for"
FORWARDED_PROTO = b"x-forwarded-proto"
SECURE_SCHEMES = {"http": "https", "websocket": "wss"}
PLAIN_SCHEMES = {"http": "http", "websocket": "ws"}


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The TRUSTED_PROXY_ADDRESSES entries as networks (a plain address is a network of one)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def normalized(address: str) -> str:
    """One spelling per address (IPv6 compressed, IPv4-mapped IPv6 as IPv4), so per-address limits count it once."""
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address.strip()  # a unix socket path or junk, kept as it was
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(normalized(address))
    except ValueError:
        return False  # a unix socket path or junk: not a proxy we know
    return any(ip in network for network in trusted_networks(tuple(settings.TRUSTED_PROXY_ADDRESSES)))


def forwarded_client(chain: str) -> str:
    """The nearest address in X-Forwarded-For that is not one of our proxies (nginx sends just $remote_addr)."""
    addresses = [normalized(part) for part in chain.split(",") if part.strip()]
    for address in reversed(addresses):
        if not is_trusted_proxy(address):
            return address
    return addresses[0] if addresses else ""


def forwarded_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the browser's request: scheme and client from a trusted proxy, a client's own claims removed."""
    headers = scope.get("headers", [])
    client = scope.get("client")
    if client and not is_trusted_proxy(str(client[0])):  # no client: a unix socket, which only this machine reaches
        return {**scope, "headers": [(k, v) for k, v in headers if k.lower() not in (FORWARDED_FOR, FORWARDED_PROTO)]}
    values = {
        k.lower(): bytes(v).decode("latin-1") for k, v in headers if k.lower() in (FORWARDED_FOR, FORWARDED_PROTO)
    }
    believed = dict(scope)
    proto = values.get(FORWARDED_PROTO, "").split(",")[0].strip().lower()
    if proto:
        secure = proto in ("https", "wss")
        believed["scheme"] = (SECURE_SCHEMES if secure else PLAIN_SCHEMES)[scope["type"]]
    if address := forwarded_client(values.get(FORWARDED_FOR, "")):
        believed["client"] = [address, 0]
    return believed


def client_ip(scope: dict[str, Any]) -> str:
    """The address of whoever opened this connection, as the lock-outs, throttles and socket caps count it."""
    client = forwarded_scope(scope).get("client")
    return normalized(str(client[0])) if client else ""


class TrustedProxyHeaders:
    """ASGI middleware around the whole application (HTTP and WebSocket)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in SECURE_SCHEMES:
            scope = forwarded_scope(scope)
        await self.app(scope, receive, send)
