"""The cohort activity feed: each announcement becomes a stored line per cohort, with the learner's fresh matrix row
when the announcement can change it.

Stored so that a reloaded dashboard shows the last hours; pruned past DASHBOARD_FEED_RETENTION_HOURS on each write.
Texts are plain text with the learner's username in them: templates escape them, dashboard.js sets textContent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from cohorts.models import Cohort, Membership
from dashboards.models import ActivityItem
from dashboards.progress_matrix import LearnerRow, build_matrix
from lessons.catalogue import get_catalogue
from playground.models import Run

TEXT_LIMIT = 400  # ActivityItem.text's length
# Announcements that change nothing a learner's matrix row shows (an answer counts once its attempt is finished, a
# prediction not at all): their update carries no row, so the row's eight queries and its cells are not built for each
# answer of a class (tests/dashboards/test_feed.py checks the row is indeed unchanged).
ROW_UNCHANGED = frozenset({"answer", "prediction"})


def topic_title(slug: Any) -> str:
    topic = get_catalogue().get(str(slug))
    return f"{topic.number}. {topic.title}" if topic else str(slug)


def run_reason(reason: Any) -> str:
    return Run.EndReason(reason).label.lower() if reason in Run.EndReason.values else str(reason)


DESCRIBE = {
    "joined": lambda u, d: f"{u} joined the cohort",
    "left": lambda u, d: f"{u} left the cohort",
    "lesson_read": lambda u, d: f"{u} read {topic_title(d.get('topic'))} ({d.get('mode')})",
    "hint": lambda u, d: f"{u} opened hint {d.get('number')} of {d.get('question')}",
    "answer": lambda u, d: f"{u} answered {d.get('question')} ({'correct' if d.get('correct') else 'wrong'})",
    "attempt_finished": lambda u, d: (
        f"{u} finished the {topic_title(d.get('topic'))} quiz: {float(d.get('score') or 0):.0f}%"
        + (", passed" if d.get("passed") else "")
    ),
    "topic_completed": lambda u, d: f"{u} completed {topic_title(d.get('topic'))}",
    "run_started": lambda u, d: f"{u} started a playground run ({d.get('starter') or 'own code'})",
    "run_ended": lambda u, d: f"{u}'s run ended ({run_reason(d.get('reason'))})",
    "run_error": lambda u, d: f"{u}'s code raised: {d.get('message')}",
    "challenge_graded": lambda u, d: (
        f"{u} passed all {d.get('total_tests')} tests of “{d.get('title')}”"
        if d.get("passed")
        else f"{u} ran the tests of “{d.get('title')}”: {d.get('passed_tests')} of {d.get('total_tests')} passed"
    ),
    "challenge_hint": lambda u, d: f"{u} opened hint {d.get('number')} of the challenge “{d.get('title')}”",
    "prediction": lambda u, d: (
        f"{u} predicted step {d.get('step')} of "
        + (topic_title(d.get("topic")) if d.get("topic") else f"run {d.get('run')}")
        + f" ({'right' if d.get('correct') else 'wrong'})"
    ),
}


def describe(kind: str, username: str, details: dict[str, Any]) -> str:
    """One line of plain text for the feed."""
    if kind in DESCRIBE:
        return DESCRIBE[kind](username, details)[:TEXT_LIMIT]
    return f"{username}: {kind}"[:TEXT_LIMIT]


def flags_text(username: str, flags: list[str]) -> str:
    if not flags:
        return f"{username} no longer looks stuck"[:TEXT_LIMIT]
    return f"{username} now looks stuck: {'; '.join(flags)}"[:TEXT_LIMIT]


def prune(cohort_id: int) -> None:
    """Forget what is older than the retention; looked for first, since a delete is a write transaction even when it
    deletes nothing, and on SQLite every write transaction waits for the database's one write lock."""
    cutoff = timezone.now() - timedelta(hours=settings.DASHBOARD_FEED_RETENTION_HOURS)
    expired = ActivityItem.objects.filter(cohort_id=cohort_id, created_at__lt=cutoff)
    if expired.exists():
        expired.delete()


def item_json(item: ActivityItem) -> dict[str, Any]:
    return {"id": item.pk, "kind": item.kind, "text": item.text, "at": item.created_at.isoformat()}


def learner_row(cohort: Cohort, user_id: int) -> LearnerRow | None:
    rows = build_matrix(cohort, only_user=user_id)[1]
    return rows[0] if rows else None


def learner_count(cohort_id: int) -> int:
    return Membership.objects.filter(cohort_id=cohort_id, role=Membership.Role.LEARNER).count()


@dataclass(frozen=True)
class Update:
    """What one cohort's dashboards get for one announcement."""

    cohort_id: int
    event: dict[str, Any]


def record(cohort_ids: list[int], user: User, kind: str, details: dict[str, Any]) -> list[Update]:
    """Store the feed lines (plus a flags line when the learner's flags changed) and build each cohort's update."""
    username = user.get_username()
    text = describe(kind, username, details)
    updates = []
    for cohort in Cohort.objects.filter(pk__in=cohort_ids):
        previous = (
            ActivityItem.objects.filter(cohort=cohort, learner=user).order_by("-id").values_list("flags", flat=True)
        ).first()
        if kind in ROW_UNCHANGED:
            row, flags = None, previous or []
        else:
            row = learner_row(cohort, user.pk)
            flags = row.flags if row else []
        items = [ActivityItem.objects.create(cohort=cohort, learner=user, kind=kind, text=text, flags=flags)]
        if row is not None and kind != "joined" and flags != (previous or []):  # a join sets the baseline
            items.append(
                ActivityItem.objects.create(
                    cohort=cohort, learner=user, kind="flags", text=flags_text(username, flags), flags=flags
                )
            )
        prune(cohort.pk)
        event = {
            **details,
            "kind": kind,
            "user_id": user.pk,
            "username": username,
            "items": [item_json(item) for item in items],
            "learners": learner_count(cohort.pk),
        }
        if row is not None:
            event["row"] = {"cells_html": str(row.cells_html), "flags": flags}
        updates.append(Update(cohort.pk, event))
    return updates


def recent(cohort: Cohort, before: int | None = None, after: int | None = None) -> list[ActivityItem]:
    """A page of the feed, newest first: the latest, those before an id (older pages), or those after an id."""
    cutoff = timezone.now() - timedelta(hours=settings.DASHBOARD_FEED_RETENTION_HOURS)
    items = ActivityItem.objects.filter(cohort=cohort, created_at__gte=cutoff)
    if before is not None:
        items = items.filter(pk__lt=before)
    if after is not None:
        items = items.filter(pk__gt=after)
    return list(items.order_by("-id")[: settings.DASHBOARD_FEED_PAGE_SIZE])


def older_than(page: list[ActivityItem]) -> int | None:
    """The id to ask for the next, older page with; None when this page is the last (it was not full)."""
    return page[-1].pk if len(page) >= settings.DASHBOARD_FEED_PAGE_SIZE else None
