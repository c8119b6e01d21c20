"""The Redis channel layer carries group messages between consumers in separate processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest

from config.layer import CancelSafeRedisChannelLayer
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


async def receive_after_a_cancelled_receive(layer_class, redis_url: str) -> list[int]:
    """One consumer stops mid-wait (its client left) while another of the same process waits for three messages."""
    layer = layer_class(hosts=[redis_url], prefix=f"cancel-{uuid.uuid4().hex[:8]}")
    leaving, staying = await layer.new_channel(), await layer.new_channel()
    leaving_receive = asyncio.create_task(layer.receive(leaving))
    await asyncio.sleep(0.3)  # it now holds the process's receive lock and waits on Redis
    staying_receive = asyncio.create_task(layer.receive(staying))
    await asyncio.sleep(0.1)
    # Redis hands the first message to the waiting pop; the consumer is cancelled before the reply is read.
    await layer.send(staying, {"type": "numbered", "n": 0})
    leaving_receive.cancel()
    for n in range(1, 3):
        await layer.send(staying, {"type": "numbered", "n": n})
    received = [(await asyncio.wait_for(staying_receive, 10))["n"]]
    for _ in range(2):
        received.append((await asyncio.wait_for(layer.receive(staying), 10))["n"])
    with pytest.raises(asyncio.CancelledError):
        await leaving_receive
    await layer.flush()
    return received


@pytest.mark.asyncio
async def test_a_receive_cancelled_while_waiting_on_redis_loses_no_message(redis_url):
    assert await receive_after_a_cancelled_receive(CancelSafeRedisChannelLayer, redis_url) == [0, 1, 2]
