"""Refuses request bodies over HTTP_MAX_REQUEST_BODY_BYTES (413) before Django reads them.

A Content-Length over the limit is answered from the header alone; a chunked or streamed body is counted as the
server hands it over and answered once it passes the limit, without reading the rest. DATA_UPLOAD_MAX_MEMORY_SIZE
is no substitute: Django spools a whole body before it checks it, and only for form posts. Under the site's Daphne
(config/serve.py) such a request never gets this far; this covers any other ASGI server (`manage.py runserver`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

TOO_LARGE_BODY = b"The request body is too large.\n"


def declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyTooLarge(Exception):
    """Raised inside the app's receive() when the streamed body passes the limit."""


class BodySizeLimit:
    """ASGI middleware for HTTP: 413 for a body over the limit, declared or streamed."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        limit = settings.HTTP_MAX_REQUEST_BODY_BYTES
        length = declared_length(scope)
        if length is not None and length > limit:
            await too_large(send)
            return
        seen = 0

        async def counted_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.application(scope, counted_receive, send)
        except BodyTooLarge:
            await too_large(send)  # Django reads the whole body before it starts a response


async def too_large(send: Any) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": TOO_LARGE_BODY})
