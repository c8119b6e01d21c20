"""`python -m config.serve [daphne options] config.asgi:application`: Daphne with the limits it lacks on its own.

Daphne (through Twisted) reads a whole request body before the application sees the request, and keeps a client
that trickles its headers for as long as each byte comes within Twisted's 60 s idle timeout. Here each request
gets HTTP_HEADER_TIMEOUT_SECONDS from its first line to the end of its headers (else 408), and a body announced
or streamed beyond HTTP_MAX_REQUEST_BODY_BYTES is answered with 413 and the connection closed, before the body is
read. Daphne's own limits (HTTP response time, WebSocket handshake time and message size) default to the
DAPHNE_* settings; a flag given on the command line wins. Every place that starts the site's Daphne starts it
through here (deploy/academy-daphne@.service, scripts/prod-local.sh, `make run`, the tests' servers).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import daphne.server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def refusal(status: str, text: str) -> bytes:
    """A complete HTTP/1.1 response written straight to the socket (the request is not parsed far enough for
    Twisted to write one)."""
    body = f"{text}\n".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


TOO_LARGE = refusal("413 Content Too Large", "The request body is too large.")
TOO_SLOW = refusal("408 Request Timeout", "The request headers took too long.")


class LimitedRequest(WebRequest):
    """A Daphne request that refuses slow headers and oversized bodies before reading the body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.refused = False
        self.body_bytes = 0
        super().__init__(*args, **kwargs)
        self.header_deadline = asyncio.get_event_loop().call_later(
            settings.HTTP_HEADER_TIMEOUT_SECONDS, self.refuse, TOO_SLOW
        )  # Daphne runs Twisted on asyncio's loop

    def gotLength(self, length: int | None) -> None:
        """All headers are in: `length` is the Content-Length, or None for a chunked body."""
        self.header_deadline.cancel()
        if length is not None and length > settings.HTTP_MAX_REQUEST_BODY_BYTES:
            super().gotLength(0)
            self.refuse(TOO_LARGE)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        """A chunked (or lying) body is counted as it comes and refused once it passes the limit."""
        if self.refused:
            return
        self.body_bytes += len(data)
        if self.body_bytes > settings.HTTP_MAX_REQUEST_BODY_BYTES:
            self.refuse(TOO_LARGE)
            return
        super().handleContentChunk(data)

    def refuse(self, response: bytes) -> None:
        if self.refused:
            return
        self.refused = True
        self.header_deadline.cancel()
        self.channel.transport.write(response)
        self.channel.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.header_deadline.cancel()
        super().connectionLost(reason)


class LimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class LimitedServer(daphne.server.Server):
    def run(self) -> None:
        # Server.run builds its HTTP factory from this module-level name and offers no other hook.
        daphne.server.HTTPFactory = LimitedHTTPFactory
        super().run()


class LimitedCommandLine(CommandLineInterface):
    server_class = LimitedServer

    def __init__(self) -> None:
        super().__init__()
        self.parser.set_defaults(
            http_timeout=settings.DAPHNE_HTTP_TIMEOUT_SECONDS,
            websocket_connect_timeout=settings.DAPHNE_WEBSOCKET_HANDSHAKE_SECONDS,
            websocket_max_message_size=settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES,
            websocket_max_frame_size=settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_BYTES,
        )


if __name__ == "__main__":
    LimitedCommandLine().run(sys.argv[1:])
