"""Issue 19 item 5: WebSockets per user and per client address are capped (4013 beyond), in one process and across
processes through Redis; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import asyncio
import time

import pytest
import websockets
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from websockets.exceptions import ConnectionClosed

from config.asgi import application
from config.proxy import client_ip
from config.socket_caps import CLOSE_TOO_MANY, RedisSlots
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie() -> str:
    client = Client()
    client.force_login(make_user())
    return f"sessionid={client.cookies['sessionid'].value}"


def from_address(ip: str):
    """The application as a connection from `ip` reaches it."""

    async def app(scope, receive, send):
        await application({**scope, "client": [ip, 50000]}, receive, send)

    return app


def socket(cookie: str | None, ip: str = "203.0.113.5", path: str = "/ws/playground/") -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(from_address(ip), path, headers=headers)


async def open_socket(cookie: str | None, ip: str = "203.0.113.5") -> WebsocketCommunicator:
    communicator = socket(cookie, ip)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.2)  # accepted and still open
    return communicator


async def expect_refused(communicator: WebsocketCommunicator) -> None:
    """What a client over the cap sees: the handshake succeeds, then the socket closes with 4013."""
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_TOO_MANY}


async def test_user_cap_allows_n_closes_the_next_with_4013_and_a_closed_socket_frees_its_slot(settings):
    settings.WEBSOCKET_MAX_PER_USER = 2
    cookie = await database_sync_to_async(session_cookie)()
    first = await open_socket(cookie, "203.0.113.1")
    second = await open_socket(cookie, "203.0.113.2")  # another address: the user's cap still counts both
    await expect_refused(socket(cookie, "203.0.113.3"))
    await first.disconnect()
    third = await open_socket(cookie, "203.0.113.3")
    other_user = await open_socket(await database_sync_to_async(session_cookie)(), "203.0.113.4")
    for communicator in (second, third, other_user):
        await communicator.disconnect()


async def test_address_cap_counts_every_user_and_the_public_live_route(settings):
    settings.WEBSOCKET_MAX_PER_IP = 2
    first = await open_socket(await database_sync_to_async(session_cookie)())
    second = await open_socket(await database_sync_to_async(session_cookie)())
    await expect_refused(socket(await database_sync_to_async(session_cookie)()))  # a third user, same address
    await expect_refused(socket(None, path="/ws/live/" + "b" * 32 + "/chat/"))  # the token route counts too
    elsewhere = await open_socket(await database_sync_to_async(session_cookie)(), "198.51.100.7")
    await first.disconnect()
    again = await open_socket(await database_sync_to_async(session_cookie)())
    for communicator in (second, again, elsewhere):
        await communicator.disconnect()


def scope_from(peer: str, forwarded: str | None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": [peer, 1234], "headers": headers}


def test_forwarded_address_is_believed_only_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1", "::1"]
    assert client_ip(scope_from("127.0.0.1", "203.0.113.9")) == "203.0.113.9"  # nginx on this machine
    assert client_ip(scope_from("::ffff:127.0.0.1", "203.0.113.9")) == "203.0.113.9"
    assert client_ip(scope_from("127.0.0.1", "10.9.9.9, 203.0.113.9")) == "203.0.113.9"  # the nearest, not a claim
    assert client_ip(scope_from("198.51.100.1", "203.0.113.9")) == "198.51.100.1"  # anyone else: the header is ignored
    assert client_ip(scope_from("127.0.0.1", None)) == "127.0.0.1"


async def test_a_spoofed_forwarded_address_does_not_escape_the_address_cap(settings):
    settings.WEBSOCKET_MAX_PER_IP = 1
    first = await open_socket(await database_sync_to_async(session_cookie)(), "198.51.100.1")
    cookie = await database_sync_to_async(session_cookie)()
    spoofed = WebsocketCommunicator(
        from_address("198.51.100.1"),
        "/ws/playground/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"host", b"localhost"),
            (b"cookie", cookie.encode()),
            (b"x-forwarded-for", b"192.0.2.77"),
        ],
    )
    await expect_refused(spoofed)
    await first.disconnect()


async def test_redis_slots_of_a_process_that_stopped_renewing_expire(redis_url):
    slots = RedisSlots(redis_url, f"test-caps-{time.monotonic_ns()}")
    assert await slots.take("user:1", 1, "dead-process-socket", lease=0.5)
    assert not await slots.take("user:1", 1, "new-socket", lease=60)
    deadline = time.monotonic() + 10
    while not await slots.take("user:1", 1, "new-socket", lease=60):  # the dead one's lease runs out
        assert time.monotonic() < deadline, "the expired slot was never freed"
        await asyncio.sleep(0.1)
    await slots.release("user:1", "new-socket")


async def real_socket(server, cookie: str):
    return await websockets.connect(
        server.ws_url + "/ws/playground/", origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=30
    )


async def closed_code(ws) -> int | None:
    try:
        await asyncio.wait_for(ws.recv(), timeout=30)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    return None


def test_user_cap_holds_across_two_daphne_processes_sharing_redis(redis_servers):
    first_server, second_server = redis_servers(2, WEBSOCKET_MAX_PER_USER="2")
    cookie = session_cookie()

    async def scenario() -> None:
        one = await real_socket(first_server, cookie)
        two = await real_socket(second_server, cookie)
        extra = await real_socket(first_server, cookie)  # a real client: the handshake succeeds, then 4013
        assert await closed_code(extra) == CLOSE_TOO_MANY
        extra_elsewhere = await real_socket(second_server, cookie)
        assert await closed_code(extra_elsewhere) == CLOSE_TOO_MANY
        await one.close()
        deadline = time.monotonic() + 30
        while True:  # the closed socket's slot is released once its consumer has ended
            again = await real_socket(second_server, cookie)
            try:
                await asyncio.wait_for(again.recv(), timeout=1)
            except TimeoutError:
                break  # open and quiet: it got the freed slot
            except ConnectionClosed as closed:
                assert closed.rcvd and closed.rcvd.code == CLOSE_TOO_MANY
                assert time.monotonic() < deadline, "the closed socket's slot was never freed"
        await again.close()
        await two.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("peer", "forwarded", "seen"),
    [("127.0.0.1", "203.0.113.9", "203.0.113.9"), ("198.51.100.1", "203.0.113.9", "198.51.100.1")],
)
async def test_http_and_websocket_scopes_get_the_client_address(settings, peer, forwarded, seen):
    """What Django's REMOTE_ADDR (sign-in lock-out, sign-up throttle) and the socket caps read."""
    from config.proxy import TrustedProxyHeaders

    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.1"]
    scopes = []

    async def inner(scope, receive, send):
        scopes.append(scope)

    for kind in ("http", "websocket"):
        scope = {"type": kind, **scope_from(peer, forwarded)}
        await TrustedProxyHeaders(inner)(scope, None, None)
    assert [scope["client"][0] for scope in scopes] == [seen, seen]
