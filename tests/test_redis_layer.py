"""The Redis channel layer carries group messages between consumers in separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

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
