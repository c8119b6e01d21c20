"""Sequence-numbered group messages reach 50 steady dashboards, in order, while 50 others connect and leave in a loop."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake

from dashboards.announce import cohort_group
from tests.factories import make_cohort, make_user
from tests.faults.test_redis_faults import layer_for, session_key

pytestmark = pytest.mark.django_db(transaction=True)

STEADY = 50
CHURNING = 50
MESSAGES = 1000
MESSAGES_PER_SECOND = 200
REQUIRED_SHARE = 0.9999  # at least 99.99 % of the steady clients' messages arrive
# Delivery is finished when every steady client has the last number, or when no steady client has received
# anything for this long: a slow machine may take minutes to drain, but a lost message never arrives.
STALL_SECONDS = 30
# Sending pauses after each block until a churning client has left since the block began, so churn overlaps the
# whole send however slow the machine; a churner that cannot come and go for this long fails the test.
BLOCK = 100
CHURN_WAIT_SECONDS = 120


async def open_dashboard(url: str, origin: str, cookie: str):
    return await ws_connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=20)


async def collect(socket, received: list[int], done: asyncio.Event) -> None:
    """Sequence numbers in arrival order until `done`, or until the last one arrives."""
    while not done.is_set() and (not received or received[-1] < MESSAGES):
        try:
            event = await asyncio.wait_for(socket.recv(), 0.2)
        except TimeoutError:
            continue
        received.append(int(json.loads(event)["n"]))


async def churn(
    url: str, origin: str, cookie: str, sessions: list[list[int]], left: asyncio.Event, stop: asyncio.Event, rng
) -> None:
    """Connect, listen for a moment, leave (then set `left`); again and again. Every connection's numbers are kept."""
    while not stop.is_set():
        try:
            socket = await open_dashboard(url, origin, cookie)
        except (InvalidHandshake, TimeoutError, OSError):
            # An overloaded server may drop a handshake (Daphne gives connect() 5 s); a churner is only noise
            # around the steady clients, so it tries again.
            continue
        received: list[int] = []
        sessions.append(received)
        async with socket:
            listening = asyncio.Event()
            listener = asyncio.create_task(collect(socket, received, listening))
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            listening.set()
            await listener
        left.set()


async def until_delivery_finishes(listeners: list[asyncio.Task], steady: list[list[int]]) -> None:
    """Wait while messages still arrive: return once every listener is done or delivery has stalled."""
    delivered, last_progress = -1, asyncio.get_running_loop().time()
    while True:
        _, pending = await asyncio.wait(listeners, timeout=1)
        if not pending:
            return
        now, count = asyncio.get_running_loop().time(), sum(len(received) for received in steady)
        if count != delivered:
            delivered, last_progress = count, now
        elif now - last_progress >= STALL_SECONDS:
            return


async def scenario(servers, path: str, cookie: str, layer, group: str) -> tuple[list[list[int]], list[list[int]]]:
    rng = random.Random(9)
    endpoints = [(server.ws_url + path, server.url) for server in servers]
    steady_sockets = [await open_dashboard(*endpoints[n % len(endpoints)], cookie) for n in range(STEADY)]
    steady = [[] for _ in steady_sockets]
    churned: list[list[int]] = []
    done, churning, stop_churning = asyncio.Event(), asyncio.Event(), asyncio.Event()
    listeners = [asyncio.create_task(collect(s, r, done)) for s, r in zip(steady_sockets, steady, strict=True)]
    churners = [
        asyncio.create_task(churn(*endpoints[n % len(endpoints)], cookie, churned, churning, stop_churning, rng))
        for n in range(CHURNING)
    ]
    await asyncio.wait_for(churning.wait(), CHURN_WAIT_SECONDS)  # send only once clients are coming and going
    for n in range(1, MESSAGES + 1):
        if n % BLOCK == 1:
            churning.clear()
        await layer.group_send(group, {"type": "cohort.event", "event": {"kind": "sequence", "n": n}})
        await asyncio.sleep(1 / MESSAGES_PER_SECOND)
        if n % BLOCK == 0:  # a slow machine sends more slowly rather than before any churner has come and gone
            await asyncio.wait_for(churning.wait(), CHURN_WAIT_SECONDS)
    stop_churning.set()
    await until_delivery_finishes(listeners, steady)
    done.set()
    await asyncio.gather(*listeners, *churners)
    for socket in steady_sockets:
        await socket.close()
    return steady, churned


def test_steady_clients_get_every_message_in_order_while_others_churn(own_redis, redis_servers):
    servers = redis_servers(2)
    instructor = make_user("prof", instructor=True)
    cohort = make_cohort(instructor)
    cookie = f"sessionid={session_key(instructor)}"
    layer = layer_for(own_redis.url)

    steady, churned = asyncio.run(
        scenario(servers, f"/ws/cohorts/{cohort.pk}/", cookie, layer, cohort_group(cohort.pk))
    )

    delivered = sum(len(received) for received in steady)
    missing = Counter(n for received in steady for n in set(range(1, MESSAGES + 1)) - set(received))
    assert delivered >= REQUIRED_SHARE * STEADY * MESSAGES, (
        f"{delivered} of {STEADY * MESSAGES} delivered; clients missing each number: {missing.most_common(10)}"
    )
    for received in steady + churned:
        assert received == sorted(set(received)), "a client got a message twice or out of order"
    assert len(churned) > 2 * CHURNING, "the churning clients should have come and gone several times"
    assert sum(len(received) for received in churned) > 0
    log = "".join(server.log_text() for server in servers)
    assert "Traceback" not in log
