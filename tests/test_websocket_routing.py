"""WebSocket entry: the full-origin check on session routes, clean refusal of unknown paths."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from channels.testing import WebsocketCommunicator
from websockets.exceptions import InvalidStatus

from config.asgi import application
from config.routing import CLOSE_NOT_FOUND


async def handshake(path: str, origin: bytes | None, host: bytes = b"localhost", extra=()):
    headers = [(b"host", host), *extra, *([(b"origin", origin)] if origin else [])]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    await communicator.wait()
    return connected, code


async def test_unknown_path_is_refused_with_not_found_code():
    assert await handshake("/ws/nowhere/", b"http://localhost") == (False, CLOSE_NOT_FOUND)


async def test_foreign_origin_is_refused_before_routing():
    connected, code = await handshake("/ws/nowhere/", b"https://evil.example")
    assert connected is False
    assert code != CLOSE_NOT_FOUND  # the origin check closed it, the route never ran


@pytest.mark.parametrize(
    "origin",
    [
        b"http://localhost:8104",  # another port of the same host name: another site
        b"https://localhost",  # another scheme
        b"http://localhost:80.evil.example",
        b"null",
        b"ws://localhost",
    ],
)
async def test_same_host_name_with_another_port_or_scheme_is_refused(origin):
    connected, code = await handshake("/ws/nowhere/", origin)
    assert connected is False and code != CLOSE_NOT_FOUND


async def test_own_origin_passes_with_explicit_default_port_and_any_case():
    for origin, host in ((b"http://localhost", b"localhost"), (b"HTTP://LocalHost:80", b"localhost:80")):
        assert await handshake("/ws/nowhere/", origin, host) == (False, CLOSE_NOT_FOUND)
    assert await handshake("/ws/nowhere/", b"http://127.0.0.1:8104", b"127.0.0.1:8104") == (False, CLOSE_NOT_FOUND)


async def test_host_outside_allowed_hosts_is_refused_even_when_origin_matches_it():
    """A DNS-rebound name: the Origin equals the Host, but the Host is not ours."""
    connected, code = await handshake("/ws/nowhere/", b"http://rebound.example", b"rebound.example")
    assert connected is False and code != CLOSE_NOT_FOUND


async def test_trusted_origins_pass_and_wildcards_match_subdomains(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://academy.example.org", "https://*.example.net:8443"]
    assert await handshake("/ws/nowhere/", b"https://academy.example.org") == (False, CLOSE_NOT_FOUND)
    assert await handshake("/ws/nowhere/", b"https://a.example.net:8443") == (False, CLOSE_NOT_FOUND)
    for refused in (b"http://academy.example.org", b"https://academy.example.org:8443", b"https://a.example.net"):
        connected, code = await handshake("/ws/nowhere/", refused)
        assert connected is False and code != CLOSE_NOT_FOUND, refused


async def test_proxy_header_decides_the_scheme_behind_a_tls_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    https = [(b"x-forwarded-proto", b"https")]
    assert await handshake("/ws/nowhere/", b"https://localhost", extra=https) == (False, CLOSE_NOT_FOUND)
    connected, code = await handshake("/ws/nowhere/", b"http://localhost", extra=https)
    assert connected is False and code != CLOSE_NOT_FOUND


async def test_missing_origin_is_refused_on_session_routes():
    connected, code = await handshake("/ws/nowhere/", None)
    assert connected is False
    assert code != CLOSE_NOT_FOUND


async def test_unknown_live_path_is_refused_cleanly():
    assert await handshake("/ws/live/not-a-token/", None) == (False, CLOSE_NOT_FOUND)


@pytest.mark.django_db(transaction=True)
async def test_real_daphne_refuses_foreign_origin_and_logs_no_traceback(daphne_server):
    for origin in ("https://evil.example", daphne_server.url):
        with pytest.raises(InvalidStatus) as excinfo:
            async with websockets.connect(daphne_server.ws_url + "/ws/nowhere/", origin=origin, open_timeout=5):
                pass
        assert excinfo.value.response.status_code == 403
    await asyncio.sleep(0.2)
    assert "Traceback" not in daphne_server.log_text()
