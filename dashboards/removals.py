"""Recent removals from cohorts, kept in the remover's session so they can undo them for a while."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from cohorts.models import Membership

SESSION_KEY = "dashboards.removals"


@dataclass(frozen=True)
class Removal:
    """Who was taken out of which cohort, in what role, since when they were in it, and when they were removed."""

    cohort_id: int
    user_id: int
    username: str
    role: str
    joined_at: datetime
    removed_at: datetime

    @property
    def undo_until(self) -> datetime:
        return self.removed_at + timedelta(seconds=settings.DASHBOARD_REMOVE_UNDO_SECONDS)


def _load(session: Any) -> list[Removal]:
    """The removals still within the undo window (older ones are dropped)."""
    now = timezone.now()
    removals = []
    for entry in session.get(SESSION_KEY, []):
        times = {key: datetime.fromisoformat(entry[key]) for key in ("joined_at", "removed_at")}
        removal = Removal(**{**entry, **times})
        if removal.undo_until >= now:
            removals.append(removal)
    return removals


def _save(session: Any, removals: list[Removal]) -> None:
    session[SESSION_KEY] = [
        {**asdict(r), "joined_at": r.joined_at.isoformat(), "removed_at": r.removed_at.isoformat()} for r in removals
    ]


def remember(session: Any, cohort_id: int, membership: Membership) -> Removal:
    user = membership.user
    removal = Removal(cohort_id, user.pk, user.get_username(), membership.role, membership.joined_at, timezone.now())
    others = [r for r in _load(session) if (r.cohort_id, r.user_id) != (cohort_id, membership.user_id)]
    _save(session, [*others, removal])
    return removal


def recent(session: Any, cohort_id: int) -> list[Removal]:
    """This cohort's removals that can still be undone, newest first."""
    return sorted((r for r in _load(session) if r.cohort_id == cohort_id), key=lambda r: r.removed_at, reverse=True)


def take(session: Any, cohort_id: int, user_id: int) -> Removal | None:
    """The removal to undo, forgotten once taken; None once its undo window has passed."""
    removals = _load(session)
    found = next((r for r in removals if (r.cohort_id, r.user_id) == (cohort_id, user_id)), None)
    _save(session, [r for r in removals if r is not found])
    return found
