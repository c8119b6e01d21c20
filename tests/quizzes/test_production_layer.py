"""Quiz claims about production's layer, which the sandbox (in-memory layer) cannot run: checked on channels_redis."""

from __future__ import annotations

import types
import uuid

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from quizzes.bank import get_bank

DATETIME_QUESTION = "troubleshooting-datetime-event"
# Channels' consumers close stale database connections around each message (channels.db.aclose_old_connections), which
# pytest-django refuses outside a database test once this worker's thread has opened a connection.
pytestmark = pytest.mark.django_db(transaction=True)


def question_router(question_id: str) -> URLRouter:
    """The question's verify consumer as a learner's project routes it."""
    module = types.ModuleType(f"quiz_{question_id.replace('-', '_')}")
    verify = get_bank().questions[question_id].verify
    assert verify is not None
    exec(compile(verify["consumer"], module.__name__, "exec"), module.__dict__)
    return URLRouter(module.websocket_urlpatterns)


async def send_go(layer: dict) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    """c1 and c2 connect to /ws/stamps/ and c1 sends "go", as the question's script does."""
    with override_settings(CHANNEL_LAYERS={"default": layer}):
        router = question_router(DATETIME_QUESTION)
        c1, c2 = WebsocketCommunicator(router, "/ws/stamps/"), WebsocketCommunicator(router, "/ws/stamps/")
        assert (await c1.connect())[0] and (await c2.connect())[0]
        await c1.send_to(text_data="go")
        return c1, c2


async def test_the_datetime_event_reaches_every_member_on_the_in_memory_layer():
    """The question's first half, as tests and the playground see it."""
    c1, c2 = await send_go({"BACKEND": "channels.layers.InMemoryChannelLayer"})
    for client in (c1, c2):
        assert (await client.receive_from()).endswith("+00:00")
        await client.disconnect()


async def test_the_datetime_event_raises_typeerror_in_the_senders_group_send_on_channels_redis(redis_url):
    """The key's production half: channels_redis serializes with msgpack, which refuses a datetime, so the sender's
    receive() raises and nobody gets the stamp."""
    prefix = f"quiz-{uuid.uuid4().hex[:8]}"
    c1, c2 = await send_go(
        {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url], "prefix": prefix}}
    )
    with pytest.raises(TypeError, match=r"^can not serialize 'datetime\.datetime' object$"):
        await c1.receive_from()
    assert await c2.receive_nothing(timeout=0.5)
    await c2.disconnect()
