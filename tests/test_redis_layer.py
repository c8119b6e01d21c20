"""The Redis channel layer carries group messages between consumers in separate processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest

from config.layer import QuietRedisChannelLayer
from tests.conftest import ROOT, production_env


def start_peer(tmp_path, redis_url: str, group: str, message: str | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "tests.support.group_peer", group] + ([message] if message else [])
    env = production_env(tmp_path, REDIS_URL=redis_url)
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_group_message_crosses_processes_through_redis(tmp_path, redis_url):
    group = f"probe-{uuid.uuid4().hex[:12]}"
    receiver = start_peer(tmp_path, redis_url, group)
    sender = start_peer(tmp_path, redis_url, group, message="hello from another process")
    try:
        receiver_pid = json.loads(receiver.stdout.readline())["ready"]
        sender_pid = json.loads(sender.stdout.readline())["ready"]
        sender.stdin.write("go\n")
        sender.stdin.flush()
        received = json.loads(receiver.stdout.readline() or "null")
        assert received == {"text": "hello from another process", "from_pid": sender_pid}
        assert receiver_pid != sender_pid
        assert receiver.wait(10) == 0, receiver.stderr.read()
        assert sender.wait(10) == 0, sender.stderr.read()
    finally:
        for proc in (receiver, sender):
            if proc.poll() is None:
                proc.kill()


class PopInFlight:
    """A Redis connection whose BZPOPMIN has taken the message but whose answer is still on its way."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.popped = asyncio.Event()
        self.answer = asyncio.Event()

    def __getattr__(self, name: str):
        return getattr(self.connection, name)

    async def bzpopmin(self, *args, **kwargs):
        result = await self.connection.bzpopmin(*args, **kwargs)
        self.popped.set()
        await self.answer.wait()
        return result


async def test_a_receive_cancelled_while_its_pop_is_answered_loses_no_message(redis_url):
    """channels_redis#366: a consumer leaving mid-receive used to lose the message for every socket of its process."""
    layer = QuietRedisChannelLayer(hosts=[redis_url], prefix=f"test-pop-{uuid.uuid4().hex[:8]}")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "probe.message", "n": 1})
    in_flight = PopInFlight(layer.connection(layer.consistent_hash(layer.non_local_name(channel))))
    real_connection = layer.connection
    layer.connection = lambda index: in_flight
    leaving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.wait_for(in_flight.popped.wait(), 10)
    leaving.cancel()
    in_flight.answer.set()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    layer.connection = real_connection
    assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "probe.message", "n": 1}
    await layer.flush()


CLEAR_CACHE_THEN_SEND = """
import asyncio, json, django
django.setup()
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("cohort-7", channel)
    cache.set("rate", 1)
    cache.clear()  # what an operator's cache clear (or Django's own clear()) does: FLUSHDB on the cache's database
    await layer.group_send("cohort-7", {"type": "still.here"})
    try:
        message = await asyncio.wait_for(layer.receive(channel), 5)
    except TimeoutError:
        message = None
    print(json.dumps({"message": message, "cache": settings.CACHES["default"]["LOCATION"]}))

asyncio.run(main())
"""


def test_a_cache_clear_keeps_channel_groups(tmp_path, own_redis):
    result = subprocess.run(
        [sys.executable, "-c", CLEAR_CACHE_THEN_SEND],
        cwd=ROOT,
        env=production_env(tmp_path, REDIS_URL=own_redis.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["message"] == {"type": "still.here"}
    assert outcome["cache"] == own_redis.url.replace("/0", "/1")  # the default: the next database
