"""A run's Run row: opening it within the learner's limits, its heartbeat, closing it, and sweeping silent ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from playground.models import Run
from playground.run.limits import run_limits


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
    """Enforce the per-learner run limits, then create the Run row (runs of dead processes no longer count).

    The code size is not checked here: Sandbox.load checks it on every path (page, worker, run_script)."""
    mark_interrupted_runs()
    limits = run_limits()
    now = timezone.now()
    mine = Run.objects.filter(learner=user)
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
    return Run.objects.create(learner=user, code=code, starter=starter[:60], started_at=now, heartbeat_at=now)


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
def record_first_error(run_id: int) -> None:
    """The learner's code raised for the first time in this run: the dashboards count it at once, not at the end."""
    Run.objects.filter(pk=run_id, error_count=0).update(error_count=1)


@database_sync_to_async
def close_run(
    run_id: int,
    reason: str,
    detail: str,
    events: list[dict[str, Any]],
    event_count: int,
    truncated: bool,
    error_count: int = 0,
) -> None:
    """End the run's row once, with why it ended, the errors its code raised and the trace kept for its replay."""
    Run.objects.filter(pk=run_id, ended_at__isnull=True).update(
        ended_at=timezone.now(),
        end_reason=reason,
        end_detail=detail[:200],
        events=events,
        event_count=event_count,
        events_truncated=truncated,
        error_count=error_count,
    )
