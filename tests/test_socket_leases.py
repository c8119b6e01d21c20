"""Issue 14 (idle socket memory): an idle socket keeps no task of its own; one task per process renews every socket's
cap slots and one joins every membership's groups again, and each stops when nothing is left for it."""

from __future__ import annotations

import asyncio
import time

from channels.layers import InMemoryChannelLayer

from config import socket_caps
from config.layer import GroupMembership, GroupRefresher
from config.socket_caps import RedisSlots, SlotRenewer

WAIT_SECONDS = 10


async def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_one_task_renews_every_held_slot_past_its_lease_and_stops_when_none_are_held(redis_url, monkeypatch):
    monkeypatch.setattr(socket_caps, "RENEW_EVERY_SECONDS", 0.1)
    monkeypatch.setattr(socket_caps, "SLOT_LEASE_SECONDS", 0.5)
    slots = RedisSlots(redis_url, f"test-leases-{time.monotonic_ns()}")
    renewer = SlotRenewer.of_this_loop()
    for member in ("first", "second"):
        assert await slots.take(f"user:{member}", 1, member, lease=0.5)
        renewer.add(member, slots, [f"user:{member}"])
    task = renewer.task
    assert task is not None
    await asyncio.sleep(1.5)  # three leases: only renewal keeps the slots
    assert not await slots.take("user:first", 1, "another", lease=60)
    assert not await slots.take("user:second", 1, "another", lease=60)
    renewer.discard("first")
    assert renewer.task is task  # the second slot still needs it
    renewer.discard("second")
    assert renewer.task is None
    await asyncio.sleep(0)
    assert task.cancelled()
    # Nobody renews the slots now: their leases run out.
    await wait_until(lambda: slots.take("user:first", 1, "another", lease=60), "an unrenewed slot was never freed")


async def test_one_task_joins_every_membership_again_after_the_groups_were_lost(settings):
    settings.CHANNEL_GROUP_REFRESH_SECONDS = 0.1
    layer = InMemoryChannelLayer()
    memberships = [GroupMembership(layer, await layer.new_channel()) for _ in range(3)]
    for membership in memberships:
        await membership.join("class")
    refresher = GroupRefresher.of_this_loop()
    task = refresher.task
    assert task is not None and set(memberships) <= refresher.memberships
    await layer.flush()  # as when Redis restarts empty

    async def all_back() -> bool:
        return len(layer.groups.get("class", {})) == 3

    await wait_until(all_back, "the memberships did not join their group again")
    for membership in memberships:
        await membership.leave_all()
    assert refresher.task is None
    await asyncio.sleep(0)
    assert task.cancelled()
    assert "class" not in layer.groups or not layer.groups["class"]
