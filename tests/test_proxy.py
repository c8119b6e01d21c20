"""Issue 20 item 2: behind TLS the live URL is wss://, built from X-Forwarded-Proto believed only from a trusted proxy."""

from __future__ import annotations

import json
import socket

import pytest
from websockets.sync.client import connect as ws_connect

from config.proxy import forwarded_scope
from tests.factories import make_user
from tests.playground.conftest import run_starter_until_live, session_headers


def scope(client: str, *headers: tuple[bytes, bytes], kind: str = "websocket") -> dict:
    return {"type": kind, "client": [client, 50000], "headers": [(b"host", b"academy.example.org"), *headers]}


HTTPS = (b"x-forwarded-proto", b"https")
FOR = (b"x-forwarded-for", b"203.0.113.7")


def test_a_trusted_proxy_gives_scheme_and_client(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1", "10.1.0.0/16"]
    assert forwarded_scope(scope("127.0.0.1", HTTPS, FOR))["scheme"] == "wss"
    assert forwarded_scope(scope("10.1.2.3", HTTPS, FOR, kind="http"))["scheme"] == "https"
    assert forwarded_scope(scope("127.0.0.1", HTTPS, FOR))["client"] == ["203.0.113.7", 0]
    plain = forwarded_scope(scope("127.0.0.1", (b"x-forwarded-proto", b"http")))
    assert plain["scheme"] == "ws" and plain["client"] == ["127.0.0.1", 50000]


def test_anyone_else_s_forwarded_headers_are_dropped(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1"]
    believed = forwarded_scope(scope("198.51.100.9", HTTPS, FOR))
    assert "scheme" not in believed
    assert believed["client"] == ["198.51.100.9", 50000]
    assert believed["headers"] == [(b"host", b"academy.example.org")]  # nothing further in can read them


def test_a_unix_socket_peer_is_the_proxy_on_this_machine(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1"]
    assert forwarded_scope({**scope("127.0.0.1", HTTPS), "client": None})["scheme"] == "wss"


def test_a_chain_of_proxies_gives_the_nearest_untrusted_address(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1", "10.0.0.0/8"]
    chain = (b"x-forwarded-for", b"192.0.2.1, 203.0.113.7, 10.0.0.5")
    assert forwarded_scope(scope("127.0.0.1", chain))["client"] == ["203.0.113.7", 0]


def connect_from(address: str, server, cookie: str, origin_scheme: str):
    """A page socket sent with X-Forwarded-Proto: https, from `address` (any 127.x.y.z reaches loopback on Linux)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(address, 0))
    return ws_connect(
        server.ws_url + "/ws/playground/",
        sock=sock,
        origin=f"{origin_scheme}://127.0.0.1:{server.port}",
        additional_headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
        open_timeout=15,
    )


@pytest.mark.django_db(transaction=True)
def test_live_url_is_wss_from_the_trusted_proxy_and_not_from_anyone_else(daphne_server):
    """The default DJANGO_TRUSTED_PROXIES is loopback's 127.0.0.1 (nginx on the same machine); 127.0.0.2 is another
    address of this machine that is not in it."""
    for address, scheme in (("127.0.0.1", "wss"), ("127.0.0.2", "ws")):
        cookie = dict(session_headers(make_user(f"tls-{scheme}")))[b"cookie"].decode()
        origin_scheme = "https" if scheme == "wss" else "http"  # the Origin check uses the same believed scheme
        with connect_from(address, daphne_server, cookie, origin_scheme) as page:
            live_url = run_starter_until_live(page, "echo")
            page.send(json.dumps({"type": "stop"}))
        assert live_url.startswith(f"{scheme}://127.0.0.1:{daphne_server.port}/ws/live/"), live_url
