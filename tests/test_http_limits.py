"""Issue 19 item 8: oversized bodies are refused before they are read, slow headers are cut off (config/serve.py),
and the ASGI app refuses them too under any other server (config/body_limit.py)."""

from __future__ import annotations

import socket

import pytest
from asgiref.testing import ApplicationCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

HUNDRED_MB = 100 * 1024 * 1024


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def post_head(port: int, extra: str) -> bytes:
    return f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


def test_daphne_refuses_a_huge_declared_body_before_reading_it(daphne_server):
    with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=30) as sock:
        sock.sendall(post_head(daphne_server.port, f"Content-Type: text/plain\r\nContent-Length: {HUNDRED_MB}\r\n"))
        sent = sock.send(b"x" * 1024)  # then nothing more: the answer must not wait for the other 99.99 MB
        response = read_response(sock)
    assert sent < 1024 * 1024
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]


def test_daphne_stops_reading_a_chunked_body_once_it_passes_the_limit(daphne_server, settings):
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=30) as sock:
        sock.sendall(post_head(daphne_server.port, "Transfer-Encoding: chunked\r\n"))
        sent = 0
        try:
            while sent <= settings.HTTP_MAX_REQUEST_BODY_BYTES + len(frame):  # one frame past the limit, never ending
                sock.sendall(frame)
                sent += len(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while still sending
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]


def test_daphne_cuts_off_headers_that_never_finish(daphne_server, settings):
    """The request line, then one header line and silence: 408 once HTTP_HEADER_TIMEOUT_SECONDS have passed."""
    with socket.create_connection(
        ("127.0.0.1", daphne_server.port), timeout=settings.HTTP_HEADER_TIMEOUT_SECONDS + 30
    ) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 408 "), response[:200]


def test_daphne_still_serves_a_body_within_the_limit(daphne_server):
    body = b"username=nobody&password=wrong"
    with socket.create_connection(("127.0.0.1", daphne_server.port), timeout=30) as sock:
        head = (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        )
        sock.sendall(post_head(daphne_server.port, head) + body)
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 403 "), response[:200]  # Django answered it (no CSRF cookie)


async def asgi_post(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> list[dict]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/accounts/login/",
        "headers": [(b"host", b"localhost"), *headers],
        "query_string": b"",
        "client": ["127.0.0.1", 1],
        "server": ["127.0.0.1", 80],
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    app = ApplicationCommunicator(application, scope)
    for n, chunk in enumerate(chunks):
        await app.send_input({"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1})
    start = await app.receive_output(timeout=10)
    body = await app.receive_output(timeout=10)
    return [start, body]


async def test_asgi_app_answers_413_from_the_declared_length_alone(settings):
    settings.HTTP_MAX_REQUEST_BODY_BYTES = 1000
    start, _ = await asgi_post([(b"content-length", b"1001")], [b"x"])
    assert start["status"] == 413


async def test_asgi_app_answers_413_once_a_streamed_body_passes_the_limit(settings):
    settings.HTTP_MAX_REQUEST_BODY_BYTES = 1000
    start, _ = await asgi_post([], [b"x" * 600, b"x" * 401])  # no Content-Length: counted as it comes
    assert start["status"] == 413


async def test_asgi_app_passes_a_body_at_the_limit_on_to_django(settings):
    settings.HTTP_MAX_REQUEST_BODY_BYTES = 1000
    start, _ = await asgi_post([(b"content-length", b"1000")], [b"x" * 1000])
    assert start["status"] == 403  # CSRF: Django handled it


def test_daphne_closes_a_websocket_message_over_its_own_limit_before_the_consumer_reads_it(daphne_server, settings):
    """Daphne's --websocket-max-message-size comes from DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES (config/serve.py):
    Daphne drops the connection (autobahn fails it without a close frame), where the page socket itself would only
    answer an error and stay open."""
    from django.test import Client
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from tests.factories import make_user

    client = Client()
    client.force_login(make_user())
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with connect(
        daphne_server.ws_url + "/ws/playground/",
        origin=daphne_server.url,
        additional_headers={"Cookie": cookie},
        max_size=None,
        open_timeout=30,
    ) as ws:
        ws.send("x" * (settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
    assert closed.value.rcvd is None  # dropped by Daphne, not closed by the consumer
