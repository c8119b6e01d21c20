"""WebSocket entry: origin validation on session routes, clean refusal of unknown paths."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from channels.testing import WebsocketCommunicator
from websockets.exceptions import InvalidStatus

from config.asgi import application
from config.routing import CLOSE_NOT_FOUND


async def handshake(path: str, origin: bytes | None):
    headers = [(b"origin", origin)] if origin else []
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
