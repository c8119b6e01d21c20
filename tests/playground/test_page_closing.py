"""A page whose socket is closing misses the message on its way; the run goes on and nothing is logged as a crash."""

from __future__ import annotations

from types import SimpleNamespace

from autobahn.exception import Disconnected

from playground.consumers import OwningPlaygroundConsumer


async def test_a_message_sent_while_the_page_closes_is_dropped_quietly(caplog):
    page = OwningPlaygroundConsumer()
    page.user = SimpleNamespace(pk=3)
    refused: list[dict] = []

    async def base_send(message: dict) -> None:  # Daphne between the browser's close frame and the disconnect event
        refused.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    page.base_send = base_send
    await page.send_to_page({"type": "status", "state": "running"})
    assert refused and refused[0]["type"] == "websocket.send"
    assert "closed while a message was on its way" in caplog.text
