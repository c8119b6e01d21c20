"""A playground run as its owner sees it: one sandbox, the page's panel clients and any live clients.

The owner is the page's socket, or in workers mode a run owner on a runworker process (playground.owner).
It relays client operations into the sandbox, routes the sandbox's events back (to the page, or to a
live client's proxy through the channel layer), records trace events on the Run row and ends the run on
Stop, page close or any limit.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from config.layer import GroupMembership, quietly
from dashboards.announce import aannounce
from playground.live import live_group_name
from playground.models import Run
from playground.sandbox.shared.limits import SandboxLimits
from playground.watch import watch_group

logger = logging.getLogger(__name__)

Notify = Callable[[dict[str, Any]], Awaitable[None]]
EVENT_BATCH_SECONDS = 0.03  # page messages beyond the burst below wait this long, so a flood arrives in few batches
EVENT_BURST = 16  # page messages sent at once within EVENT_BATCH_SECONDS (one step brings two or three)
CLOSE_EXPLANATIONS = {
    1000: "normal closure",
    1001: "going away (page closed or server shutting down)",
    1006: "closed without a close frame (the connection dropped)",
    1009: "message too big",
    1011: "the server hit an unexpected error",
    403: "handshake refused: connect() closed or raised DenyConnection before accept()",
}


@cache
def run_limits() -> SandboxLimits:
    """The limits of every run: SandboxLimits defaults with settings.PLAYGROUND_LIMITS applied."""
    return SandboxLimits.from_mapping(settings.PLAYGROUND_LIMITS)


def explain_close(code: int) -> str:
    if code in CLOSE_EXPLANATIONS:
        return CLOSE_EXPLANATIONS[code]
    if 4000 <= code <= 4999:
        return "an application-defined code chosen by the consumer"
    return ""


SANDBOX_EXIT_REASONS = {
    "stopped": Run.EndReason.STOPPED,
    "error": Run.EndReason.ERROR,
    "limit": Run.EndReason.LIMIT,
    "start_failed": Run.EndReason.START_FAILED,
}


def end_reason_for(sandbox_reason: str) -> str:
    """The Run end reason for a sandbox exit reason; anything unexpected (protocol, crash) is a crash."""
    return SANDBOX_EXIT_REASONS.get(sandbox_reason, Run.EndReason.CRASHED)


class RunRefused(Exception):
    """A run cannot start (rate limit, sandbox unavailable); the message is shown to the learner."""


def mark_interrupted_runs() -> int:
    """Runs whose owning process stopped beating (killed, machine lost) end as interrupted; returns how many."""
    now = timezone.now()
    silent_since = now - timedelta(seconds=3 * settings.PLAYGROUND_HEARTBEAT_SECONDS)
    return Run.objects.filter(ended_at__isnull=True, heartbeat_at__lt=silent_since).update(
        ended_at=now, end_reason=Run.EndReason.INTERRUPTED, end_detail="the server process running it stopped"
    )


@database_sync_to_async
def open_run(user: Any, code: str, starter: str) -> Run:
    """Enforce the per-learner run limits, then create the Run row (runs of dead processes no longer count)."""
    mark_interrupted_runs()
    limits = run_limits()
    now = timezone.now()
    mine = Run.objects.filter(owner=user)
    active = mine.filter(
        ended_at__isnull=True, started_at__gte=now - timedelta(seconds=limits.lifetime_seconds)
    ).count()
    if active >= settings.PLAYGROUND_MAX_CONCURRENT_RUNS:
        raise RunRefused(
            f"You already have {active} runs going (at most {settings.PLAYGROUND_MAX_CONCURRENT_RUNS}); stop one first."
        )
    recent = mine.filter(started_at__gte=now - timedelta(minutes=1)).count()
    if recent >= settings.PLAYGROUND_RUNS_PER_MINUTE:
        raise RunRefused(f"At most {settings.PLAYGROUND_RUNS_PER_MINUTE} runs a minute; wait a moment and run again.")
    if len(code.encode()) > limits.max_code_bytes:
        raise RunRefused(
            f"Your code is over {limits.max_code_bytes // 1024} KiB; the playground runs at most that much."
        )
    return Run.objects.create(owner=user, code=code, starter=starter[:60], started_at=now, heartbeat_at=now)


@database_sync_to_async
def interrupted_run(run_id: int) -> str | None:
    """Why the run was interrupted (its owner stopped beating), after sweeping; None while it is not."""
    mark_interrupted_runs()
    run = Run.objects.filter(pk=run_id, end_reason=Run.EndReason.INTERRUPTED).first()
    return (run.end_detail or run.get_end_reason_display()) if run else None


@database_sync_to_async
def beat(run_id: int) -> None:
    """The owner is alive: stamp the run, and end the runs of owners that are not."""
    Run.objects.filter(pk=run_id, ended_at__isnull=True).update(heartbeat_at=timezone.now())
    mark_interrupted_runs()


@database_sync_to_async
def close_run(run_id: int, reason: str, detail: str, events: list[dict], event_count: int, truncated: bool) -> None:
    Run.objects.filter(pk=run_id, ended_at__isnull=True).update(
        ended_at=timezone.now(),
        end_reason=reason,
        end_detail=detail[:200],
        events=events,
        event_count=event_count,
        events_truncated=truncated,
    )


@dataclass
class LiveClient:
    reply_channel: str
    accepted: bool = False
    dropped: int = 0  # frames lost because the client's channel was full (it stopped reading)


class RunSession:
    """Owns one sandbox on behalf of one page; every method runs on the owner's event loop."""

    def __init__(
        self, *, run: Run, owner: Any, sandbox: Any, notify: Notify, channel_layer: Any, owner_channel: str
    ) -> None:
        self.run = run
        self.owner = owner
        self.sandbox = sandbox
        self.notify = notify
        self.layer = channel_layer
        self.owner_channel = owner_channel
        self.limits = run_limits()
        self.live_token = secrets.token_urlsafe(24)
        self.group = live_group_name(self.live_token)
        self.membership = GroupMembership(channel_layer, owner_channel)
        self.heartbeat_task: asyncio.Task | None = None
        self.live: dict[str, LiveClient] = {}
        self.live_counter = 0
        self.events: list[dict] = []
        self.event_count = 0
        self.ended = False
        self.stopping = False  # the owner ended the run; its reason wins over the sandbox's exit reason
        self.end_reason = (Run.EndReason.STOPPED, "")
        self.pump_task: asyncio.Task | None = None
        self.outbox: list[dict[str, Any]] = []  # page messages not sent yet, in the sandbox's order
        self.flush_task: asyncio.Task | None = None
        self.recent_flushes: deque[float] = deque(maxlen=EVENT_BURST)

    async def start(self, code: str) -> None:
        await aannounce(self.owner, "run_started", run_id=self.run.pk, starter=self.run.starter)
        await self.membership.join(self.group)
        await self.membership.join(watch_group(self.run.pk))
        self.heartbeat_task = asyncio.create_task(self.beat_forever())
        self.pump_task = asyncio.create_task(self.pump())
        await self.sandbox.load(code)

    async def beat_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.PLAYGROUND_HEARTBEAT_SECONDS)
            await beat(self.run.pk)

    async def pump(self) -> None:
        """Route every sandbox event until the sandbox is gone, then close the run."""
        try:
            async for event in self.sandbox.events():
                await self.route(event)
        finally:
            await self.finish()

    async def route(self, event: dict[str, Any]) -> None:
        ev = event["ev"]
        client = event.get("client")
        if ev == "trace":
            record = {k: v for k, v in event.items() if k != "ev"}
            self.event_count += 1
            if len(self.events) < self.limits.max_events:
                self.events.append(record)
            self.post({"type": "events", "events": [record]})
        elif ev in ("accept", "send", "close", "reject") and client in self.live:
            await self.route_live(ev, client, event)
        elif ev == "accept":
            self.post({"type": "client.accepted", "client": client, "subprotocol": event.get("subprotocol")})
        elif ev == "send":
            message = {"type": "client.message", "client": client}
            message.update({"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]})
            self.post(message)
        elif ev in ("close", "reject"):
            code = event.get("code") or 403
            self.post({"type": "client.closed", "client": client, "code": code, "explanation": explain_close(code)})
        elif ev == "output":
            self.post({"type": "output", "text": event.get("text", "")})
        elif ev == "error":
            self.post(
                {
                    "type": "error",
                    "message": event.get("traceback") or event.get("message", ""),
                    "line": event.get("line"),
                }
            )
            if event.get("source") != "owner":
                await aannounce(
                    self.owner, "run_error", run_id=self.run.pk, message=str(event.get("message", ""))[:200]
                )
        elif ev in ("paused", "resumed"):
            self.post({"type": ev, **{k: v for k, v in event.items() if k != "ev"}})
        elif ev == "loaded":
            self.post({"type": "status", "state": "running", "reason": None})
        elif ev == "limit":
            self.end_reason = (
                Run.EndReason.LIMIT,
                f"{event['what']} limit reached" + (f": {event['detail']}" if event.get("detail") else ""),
            )
        elif ev == "exit" and not self.stopping and self.end_reason[0] != Run.EndReason.LIMIT:
            self.end_reason = (end_reason_for(event.get("reason", "")), event.get("detail", ""))

    def post(self, message: dict[str, Any]) -> None:
        """Queue a page message; the queue goes out as one `batch`, so a flood never floods the browser."""
        last = self.outbox[-1] if self.outbox else None
        if last is not None and last["type"] == message["type"] == "events":
            last["events"].extend(message["events"])
        else:
            self.outbox.append(message)
        if self.flush_task is None:
            # A quiet run sends at once; only a flood waits, and then goes out in one batch per interval.
            recent = self.recent_flushes
            quiet = len(recent) < EVENT_BURST or time.monotonic() - recent[0] >= EVENT_BATCH_SECONDS
            self.flush_task = asyncio.create_task(self.flush_later(0.0 if quiet else EVENT_BATCH_SECONDS))

    async def flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.flush_task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self.outbox = self.outbox, []
        if batch:
            self.recent_flushes.append(time.monotonic())
            await self.notify(batch[0] if len(batch) == 1 else {"type": "batch", "messages": batch})

    async def flush_now(self) -> None:
        if self.flush_task:
            self.flush_task.cancel()
            self.flush_task = None
        await self.flush()

    async def route_live(self, ev: str, client: str, event: dict[str, Any]) -> None:
        live = self.live[client]
        if ev == "accept":
            live.accepted = True
            await self.send_to_live(
                client,
                {
                    "type": "live.accept",
                    "owner": self.owner_channel,
                    "client": client,
                    "subprotocol": event.get("subprotocol"),
                },
            )
        elif ev == "send":
            payload = {"bytes": event["bytes"]} if "bytes" in event else {"text": event["text"]}
            await self.send_to_live(client, {"type": "live.send", **payload})
        else:
            kind = "live.close" if live.accepted else "live.reject"
            await self.send_to_live(client, {"type": kind, "code": event.get("code") or 403})
            self.live.pop(client, None)

    async def send_to_live(self, client: str, message: dict[str, Any]) -> None:
        """A live client that stops reading fills its channel: its frames are dropped and counted, the run goes on."""
        live = self.live[client]
        try:
            await self.layer.send(live.reply_channel, message)
        except ChannelFull:
            live.dropped += 1
            if live.dropped == 1:
                logger.warning("run %s: live client %s is not reading; dropping its frames", self.run.pk, client)
                self.post(
                    {
                        "type": "error",
                        "message": f"{client} is not reading its messages, so the ones for it are dropped "
                        "(its channel holds at most CHANNEL_LAYER_CAPACITY messages). The run goes on.",
                        "line": None,
                    }
                )

    async def client_op(self, op: dict[str, Any]) -> None:
        """A panel client's operation (already validated by the consumer)."""
        await self.sandbox.send(op)

    async def live_connect(self, reply_channel: str, path: str, query: str, subprotocols: list[str]) -> None:
        if self.ended:
            await self.layer.send(reply_channel, {"type": "live.reject", "code": 4404})
            return
        self.live_counter += 1
        client = f"live{self.live_counter}"
        self.live[client] = LiveClient(reply_channel=reply_channel)
        await self.sandbox.send(
            {"op": "connect", "client": client, "path": path, "query": query, "subprotocols": subprotocols}
        )

    async def live_receive(self, client: str, message: dict[str, Any]) -> None:
        if client in self.live and not self.ended:
            await self.sandbox.send({"op": "receive", "client": client, **message})

    async def live_disconnect(self, client: str, code: int) -> None:
        if self.live.pop(client, None) and not self.ended:
            await self.sandbox.send({"op": "disconnect", "client": client, "code": code})

    async def stop(self, reason: str, detail: str = "") -> None:
        """End the run now (Stop button, page closed, a new run); the pump finishes the bookkeeping."""
        if not self.ended and not self.stopping:
            self.end_reason = (reason, detail)
        self.stopping = True
        await self.sandbox.stop(reason)
        if self.pump_task:
            await asyncio.wait([self.pump_task], timeout=5)

    async def finish(self) -> None:
        """Record the run whatever state the channel layer is in: its clean-up is best effort, the row is not."""
        if self.ended:
            return
        self.ended = True
        if self.heartbeat_task:
            self.heartbeat_task.cancel()
        for client, live in list(self.live.items()):
            closing = {"type": "live.close" if live.accepted else "live.reject", "code": 1001}
            await quietly(self.send_to_live(client, closing), f"closing {client}")
        self.live.clear()
        await self.membership.leave_all()
        await quietly(self.flush_now(), "the last page messages")
        reason, detail = self.end_reason
        await close_run(self.run.pk, reason, detail, self.events, self.event_count, self.event_count > len(self.events))
        await aannounce(self.owner, "run_ended", run_id=self.run.pk, reason=reason)
        stopped = {
            "type": "status",
            "state": "stopped",
            "reason": detail or Run.EndReason(reason).label,
            "replay": reverse("playground:replay", args=[self.run.pk]),
        }
        await quietly(self.notify(stopped), "the run's last status")
