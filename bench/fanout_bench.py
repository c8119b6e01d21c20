"""Group fan-out over the real Redis channel layer: one group_send reaching 1,000 member channels.

Times group_send until the last of the 1,000 members has received the message, through
channels-redis exactly as the site configures it. Only a loopback Redis is accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import write_results

MEMBERS = 1000
ROUNDS = 20
GOAL_MS = 15.0


async def fan_out_times(redis_url: str, members: int, rounds: int) -> list[float]:
    """Milliseconds from group_send to the last member's receive, one figure per round."""
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[redis_url], prefix=f"bench-{uuid.uuid4().hex[:8]}", capacity=100)
    group = "fanout"
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add(group, channel)
    times = []
    try:
        for round_ in range(rounds + 1):  # the first round warms the connections and is not counted
            receivers = [asyncio.ensure_future(layer.receive(channel)) for channel in channels]
            await asyncio.sleep(0.05)  # every receiver is waiting before the clock starts
            started = time.perf_counter()
            await layer.group_send(group, {"type": "bench.tick", "round": round_})
            received = await asyncio.wait_for(asyncio.gather(*receivers), 30)
            elapsed = (time.perf_counter() - started) * 1000
            assert all(message["round"] == round_ for message in received)
            if round_:
                times.append(elapsed)
    finally:
        for channel in channels:
            await layer.group_discard(group, channel)
        await layer.flush()
        await layer.close_pools()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    if "127.0.0.1" not in args.redis_url and "localhost" not in args.redis_url:
        raise SystemExit("benchmarks only target loopback: give a redis://127.0.0.1 URL")
    times = sorted(asyncio.run(fan_out_times(args.redis_url, args.members, args.rounds)))
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    rows = [
        (
            f"group_send to {args.members} members -> last member received, p50 / p99 ({args.rounds} rounds)",
            f"{statistics.median(times):.1f} ms / {p99:.1f} ms",
            f"≤ {GOAL_MS:.0f} ms",
            "met" if p99 <= GOAL_MS else "missed",
        )
    ]
    notes = (
        "One process holds all members (channels-redis multiplexes them over its receive loop), so the figure "
        "includes delivering 1,000 messages from Redis into that process as well as the group_send itself. "
        "Redis on loopback, same 2-core machine."
    )
    write_results(
        Path(__file__).with_name("fanout_RESULTS.md"),
        "Group fan-out over Redis",
        "python bench/fanout_bench.py",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
