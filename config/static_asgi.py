"""Serves collected static files straight from ASGI, before Django, with cache headers.

WhiteNoise's file index supplies the headers (ETag, Last-Modified, Cache-Control, compressed
variants); this wrapper answers without the thread hop a sync middleware would cost every request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from whitenoise.base import WhiteNoise

LARGE_FILE_BYTES = 256 * 1024
# Paths browsers ask for at the site's root, answered with a static file (nginx serves the same files from disk).
ROOT_FILES = {"/favicon.ico": "img/favicon.ico"}


def build_static_index() -> WhiteNoise:
    """Index STATIC_ROOT once at start-up (or look files up per request with DEBUG on)."""
    index = WhiteNoise(
        application=None,
        root=settings.STATIC_ROOT,
        prefix=settings.STATIC_URL,
        max_age=settings.STATIC_MAX_AGE,
        autorefresh=settings.DEBUG,
    )
    if settings.DEBUG:
        from django.contrib.staticfiles import finders

        for finder in finders.get_finders():
            for path, storage in finder.list(None):
                index.add_file_to_dictionary(settings.STATIC_URL + path.replace("\\", "/"), storage.path(path), None)
    return index


def read_file(file_obj: Any) -> bytes:
    """Read and close a file opened by WhiteNoise."""
    with file_obj:
        return file_obj.read()


class StaticFilesApp:
    """ASGI app: static paths are answered here, everything else goes to the inner app."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prefix = settings.STATIC_URL
        self.index = build_static_index()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if path in ROOT_FILES:
            path = self.prefix + ROOT_FILES[path]
        if not path.startswith(self.prefix):
            await self.inner(scope, receive, send)
            return
        static_file = self.index.files.get(path)
        if static_file is None:
            await self.inner(scope, receive, send)
            return
        request_headers = {
            k.decode("latin-1").upper().replace("-", "_"): v.decode("latin-1") for k, v in scope["headers"]
        }
        environ = {f"HTTP_{k}": v for k, v in request_headers.items()}
        response = static_file.get_response(scope["method"], environ)
        body = b""
        if response.file is not None:
            body = await asyncio.to_thread(read_file, response.file)
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
        headers.append((b"x-content-type-options", b"nosniff"))  # a file is only ever what its extension says
        await send({"type": "http.response.start", "status": int(response.status), "headers": headers})
        await send({"type": "http.response.body", "body": body})
