"""Fault tests: real Daphne processes on a Redis of the test's own, which the test stops, empties and restarts."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from tests.conftest import DaphneServer, free_port, missing_service, shared_server_env


class RedisServer:
    """A redis-server only this test uses, so stopping it disturbs nobody (no persistence: a restart is empty)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing_service("redis-server is not installed (make test installs it)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


@pytest.fixture
def own_redis():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_servers(own_redis, collected_static, tmp_path):
    """Start Daphne processes on own_redis and the test database; every one is stopped afterwards."""
    started: list[DaphneServer] = []

    def start(count: int = 1, **extra: str) -> list[DaphneServer]:
        env = shared_server_env(collected_static, REDIS_URL=own_redis.url, ACADEMY_TEST_CHANNEL_LAYER="redis", **extra)
        for _ in range(count):
            started.append(DaphneServer(env, tmp_path / f"daphne-{len(started)}.log"))
        return started[-count:]

    yield start
    for server in started:
        server.stop()
