"""Group fan-out over the real Redis channel layer: one group_send reaching 1,000 members spread over two processes.

Two member processes hold 500 member channels each (every one waiting in receive(), as an idle consumer does); a
third process, the sender, times group_send until the last of the 1,000 members has received the message. Each
member process notes the clock (CLOCK_MONOTONIC, shared by the processes of one machine) when its last member
received; the figure is the later of the two minus the sender's clock before group_send. The layer is the site's
(config.layer.QuietRedisChannelLayer with settings.CHANNEL_LAYERS' configuration), under a prefix of this run's own.
Only a loopback Redis is accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import write_results

MEMBERS = 1000
PROCESSES = 2
ROUNDS = 20
GOAL_MS = 15.0
GROUP = "fanout"
SCRIPT = str(Path(__file__).resolve())


def site_layer(redis_url: str, prefix: str) -> Any:
    """The channel layer as config/settings.py configures it for REDIS_URL, under the run's prefix."""
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.conf import settings
    from django.utils.module_loading import import_string

    layer = settings.CHANNEL_LAYERS["default"]
    return import_string(layer["BACKEND"])(**{**layer["CONFIG"], "prefix": prefix})


async def member(redis_url: str, prefix: str, count: int) -> None:
    """Member process: joins `count` channels to the group, then per `round N` line on stdin starts every receive,
    says `listening`, and answers with the clock at the last member's receipt."""
    layer = site_layer(redis_url, prefix)
    loop = asyncio.get_running_loop()
    channels = [await layer.new_channel() for _ in range(count)]
    for channel in channels:
        await layer.group_add(GROUP, channel)
    print(json.dumps({"ready": count}), flush=True)
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            round_ = int(line.split()[1])
            receivers = [asyncio.ensure_future(layer.receive(channel)) for channel in channels]
            await asyncio.sleep(0)  # every receive is waiting (or holds the process's receive lock)
            print(json.dumps({"listening": round_}), flush=True)
            cpu = time.process_time()
            received = await asyncio.wait_for(asyncio.gather(*receivers), 30)
            last = time.monotonic()
            ok = all(message["round"] == round_ for message in received)
            print(json.dumps({"last": last, "ok": ok, "cpu": time.process_time() - cpu}), flush=True)
    finally:
        for channel in channels:
            await layer.group_discard(GROUP, channel)
        await layer.close_pools()


async def answer(proc: asyncio.subprocess.Process, timeout: float = 60) -> dict[str, Any]:
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        raise RuntimeError("a member process ended without answering")
    return json.loads(line)


async def fan_out_times(redis_url: str, members: int, processes: int, rounds: int) -> dict[str, list[float]]:
    """Per round: milliseconds from group_send to the last member's receipt over `processes` member processes, and
    the CPU milliseconds the sender's group_send and the busiest member process spent (a busy machine stretches
    the first, hardly the others)."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    layer = site_layer(redis_url, prefix)
    shares = [members // processes + (index < members % processes) for index in range(processes)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            SCRIPT,
            "--member",
            str(share),
            "--redis-url",
            redis_url,
            "--prefix",
            prefix,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for share in shares
    ]
    times: dict[str, list[float]] = {"wall": [], "sender_cpu": [], "member_cpu": []}
    try:
        await asyncio.gather(*(answer(proc, 120) for proc in procs))
        for round_ in range(rounds + 1):  # the first round warms the connections and is not counted
            for proc in procs:
                proc.stdin.write(f"round {round_}\n".encode())
                await proc.stdin.drain()
            await asyncio.gather(*(answer(proc) for proc in procs))
            await asyncio.sleep(0.05)  # every member's receive is waiting before the clock starts
            started, cpu = time.monotonic(), time.process_time()
            await layer.group_send(GROUP, {"type": "bench.tick", "round": round_})
            sender_cpu = time.process_time() - cpu
            results = await asyncio.gather(*(answer(proc) for proc in procs))
            if not all(result["ok"] for result in results):
                raise RuntimeError(f"round {round_}: a member received another round's message")
            if round_:
                times["wall"].append((max(result["last"] for result in results) - started) * 1000)
                times["sender_cpu"].append(sender_cpu * 1000)
                times["member_cpu"].append(max(result["cpu"] for result in results) * 1000)
    finally:
        for proc in procs:
            if proc.stdin and not proc.stdin.is_closing():
                proc.stdin.close()
        await asyncio.gather(*(proc.wait() for proc in procs))
        await layer.flush()
        await layer.close_pools()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--processes", type=int, default=PROCESSES, help="member processes sharing the members")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--member", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "127.0.0.1" not in args.redis_url and "localhost" not in args.redis_url:
        raise SystemExit("benchmarks only target loopback: give a redis://127.0.0.1 URL")
    if args.member is not None:
        asyncio.run(member(args.redis_url, args.prefix, args.member))
        return
    figures = asyncio.run(fan_out_times(args.redis_url, args.members, args.processes, args.rounds))
    times = sorted(figures["wall"])
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    load = os.getloadavg()
    rows = [
        (
            f"group_send to {args.members} members in {args.processes} processes -> last member received, "
            f"p50 / p99 ({args.rounds} rounds)",
            f"{statistics.median(times):.1f} ms / {p99:.1f} ms",
            f"≤ {GOAL_MS:.0f} ms",
            "met" if p99 <= GOAL_MS else "missed",
        ),
        (
            "CPU per round, p50: the sender's group_send / the busiest member process",
            f"{statistics.median(figures['sender_cpu']):.1f} ms / {statistics.median(figures['member_cpu']):.1f} ms",
            "",
            "",
        ),
    ]
    notes = (
        f"{args.processes} member processes hold {args.members} member channels between them, each channel waiting "
        "in receive() as an idle consumer's does; the sender is a process of its own. channels-redis puts one "
        "message per member process into Redis (its channels share the process's key), and that process hands it "
        "to each of its members. The clock starts before group_send in the sender and stops at the last member's "
        "receipt in the later member process (CLOCK_MONOTONIC, shared by the processes of one machine). The layer is "
        "the site's (config.layer.QuietRedisChannelLayer, settings.CHANNEL_LAYERS' configuration). Redis on "
        f"loopback, same 2-core machine, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end "
        "(other work shares the machine: provisional until measured on a quiet one)."
    )
    write_results(
        Path(os.environ.get("FANOUT_OUT", Path(__file__).with_name("fanout_RESULTS.md"))),
        "Group fan-out over Redis",
        f"python bench/fanout_bench.py --members {args.members} --processes {args.processes} --rounds {args.rounds}",
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
