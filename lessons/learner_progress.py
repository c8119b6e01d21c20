"""Progress for signed-in learners (rows) and anonymous visitors (the session), behind one interface.

Anonymous progress is merged into the account at log-in or sign-up (see lessons.signals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from activity import announce
from lessons.catalogue import MODES, Topic
from lessons.models import LearningPreference, ModeVisit, TopicCompletion

SESSION_KEY = "lesson_progress"


@dataclass
class Progress:
    """What a learner has done, keyed by topic slug."""

    seen: dict[str, set[str]] = field(default_factory=dict)
    completed: set[str] = field(default_factory=set)
    preferred_mode: str | None = None
    last: tuple[str, str] | None = None  # (topic slug, mode) most recently opened
    last_seen: datetime | None = None  # when `last` was recorded (signed-in learners only)


def _session_state(request: HttpRequest) -> dict:
    return request.session.get(SESSION_KEY) or {"seen": {}, "completed": [], "preferred_mode": None, "last": None}


def load_progress(request: HttpRequest) -> Progress:
    """The current visitor's progress, from rows or the session."""
    if request.user.is_authenticated:
        return load_user_progress(request.user)
    state = _session_state(request)
    return Progress(
        seen={topic: set(modes) for topic, modes in state["seen"].items()},
        completed=set(state["completed"]),
        preferred_mode=state["preferred_mode"],
        last=tuple(state["last"]) if state["last"] else None,
    )


def load_user_progress(user: User) -> Progress:
    """Progress rows of one learner, in two queries."""
    progress = Progress()
    latest = None
    for visit in ModeVisit.objects.filter(user=user).only("topic", "mode", "last_seen"):
        progress.seen.setdefault(visit.topic, set()).add(visit.mode)
        if latest is None or visit.last_seen > latest.last_seen:
            latest = visit
    progress.last = (latest.topic, latest.mode) if latest else None
    progress.last_seen = latest.last_seen if latest else None
    progress.completed = set(TopicCompletion.objects.filter(user=user).values_list("topic", flat=True))
    preference = LearningPreference.objects.filter(user=user).first()
    progress.preferred_mode = preference.preferred_mode if preference else None
    return progress


# What a topic page needs of a learner's progress, as one statement: the ORM took 1.8 ms of CPU to compile the same
# query with subqueries (and 1 ms for three plain ones) against 0.02 ms to run this one (bench/request_profile_RESULTS.md).
TOPIC_PROGRESS_SQL = (
    f'SELECT (SELECT preferred_mode FROM "{LearningPreference._meta.db_table}" WHERE user_id = %(user)s), '
    f'EXISTS (SELECT 1 FROM "{TopicCompletion._meta.db_table}" WHERE user_id = %(user)s AND topic = %(topic)s), '
    "last.topic, last.mode, last.last_seen FROM (SELECT 1 AS one) AS one LEFT JOIN ("
    f'SELECT topic, mode, last_seen FROM "{ModeVisit._meta.db_table}" WHERE user_id = %(user)s '
    "ORDER BY last_seen DESC, id LIMIT 1) AS last ON 1 = 1"
)


def _as_last_seen(value: object) -> datetime | None:
    """A raw last_seen column as the ORM would give it (SQLite stores text, naive)."""
    column = ModeVisit._meta.get_field("last_seen").get_col(ModeVisit._meta.db_table)
    for convert in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = convert(value, column, connection)
    return value  # type: ignore[return-value]


def load_topic_progress(request: HttpRequest, topic: Topic) -> Progress:
    """What a topic page needs of the visitor's progress, for a learner in one small query: the page read last and
    when, the preferred mode and whether this topic is complete (`seen` is left empty: the page does not show it)."""
    if not request.user.is_authenticated:
        return load_progress(request)
    with connection.cursor() as cursor:
        cursor.execute(TOPIC_PROGRESS_SQL, {"user": request.user.pk, "topic": topic.slug})
        preferred_mode, completed, last_topic, last_mode, last_seen = cursor.fetchone()
    return Progress(
        completed={topic.slug} if completed else set(),
        preferred_mode=preferred_mode,
        last=(last_topic, last_mode) if last_topic else None,
        last_seen=_as_last_seen(last_seen),
    )


def _save_visit(user: User, topic_slug: str, mode: str, when) -> None:
    updated = ModeVisit.objects.filter(user=user, topic=topic_slug, mode=mode).update(last_seen=when)
    if not updated:
        try:
            with transaction.atomic():
                ModeVisit.objects.create(user=user, topic=topic_slug, mode=mode, first_seen=when, last_seen=when)
        except IntegrityError:  # a concurrent request created it first
            ModeVisit.objects.filter(user=user, topic=topic_slug, mode=mode).update(last_seen=when)


def _save_preference(user: User, mode: str) -> None:
    LearningPreference.objects.update_or_create(user=user, defaults={"preferred_mode": mode})


def visit_changes_nothing(progress: Progress, topic: Topic, mode: str, *, chosen: bool) -> bool:
    """Re-opening the page read last (recently, and not choosing a new preferred mode) leaves progress as it is."""
    if progress.last != (topic.slug, mode) or (chosen and progress.preferred_mode != mode):
        return False
    if progress.last_seen is None:  # the session keeps no time: the same page again is no change
        return True
    return timezone.now() - progress.last_seen < timedelta(seconds=settings.LESSON_VISIT_REFRESH_SECONDS)


def record_visit(request: HttpRequest, topic: Topic, mode: str, *, chosen: bool, progress: Progress) -> None:
    """Remember that a mode was opened (`chosen`: the learner picked the tab, so it becomes the preferred mode), and
    update `progress` to match; a lesson read that changes nothing writes nothing."""
    if visit_changes_nothing(progress, topic, mode, chosen=chosen):
        return
    progress.seen.setdefault(topic.slug, set()).add(mode)
    progress.last = (topic.slug, mode)
    if chosen:
        progress.preferred_mode = mode
    if request.user.is_authenticated:
        progress.last_seen = timezone.now()
        _save_visit(request.user, topic.slug, mode, progress.last_seen)
        if chosen:
            _save_preference(request.user, mode)
        announce(request.user, "lesson_read", topic=topic.slug, mode=mode)
        return
    state = _session_state(request)
    modes = state["seen"].setdefault(topic.slug, [])
    if mode not in modes:
        modes.append(mode)
    state["last"] = [topic.slug, mode]
    if chosen:
        state["preferred_mode"] = mode
    request.session[SESSION_KEY] = state


def complete_topic(user_or_request: User | HttpRequest, topic: Topic, *, via: str = "manual") -> None:
    """Mark a topic complete (idempotent)."""
    if isinstance(user_or_request, HttpRequest):
        if not user_or_request.user.is_authenticated:
            state = _session_state(user_or_request)
            if topic.slug not in state["completed"]:
                state["completed"].append(topic.slug)
            user_or_request.session[SESSION_KEY] = state
            return
        user = user_or_request.user
    else:
        user = user_or_request
    _, created = TopicCompletion.objects.get_or_create(
        user=user,
        topic=topic.slug,
        defaults={"completed_at": timezone.now(), "content_hash": topic.content_hash, "via": via},
    )
    if created:
        announce(user, "topic_completed", topic=topic.slug, via=via)


class CompletionRefused(Exception):
    """Marking a topic complete that completes some other way; answered with 409 and the rule."""

    status = 409


def completion_rule(topic: Topic) -> str:
    """What "complete" means for a topic, as the topic page states it; the pass mark is the quiz's own."""
    if topic.quiz is not None:
        return f"This topic is complete when you pass its quiz with {topic.quiz.pass_percent}% or more."
    return "This topic has no quiz: it is complete when you mark it complete."


def mark_complete(request: HttpRequest, topic: Topic) -> None:
    """The learner's own "Mark complete": only for a topic without a quiz, since a quiz topic completes by passing."""
    if topic.quiz is not None:
        raise CompletionRefused(completion_rule(topic))
    complete_topic(request, topic)


def merge_session_progress(request: HttpRequest, user: User) -> None:
    """Move an anonymous visitor's progress into their account, keeping what the account already has."""
    state = request.session.pop(SESSION_KEY, None)
    if not state:
        return
    from lessons.catalogue import get_catalogue

    catalogue = get_catalogue()
    now = timezone.now()
    with transaction.atomic():
        for slug, modes in state["seen"].items():
            for mode in modes:
                if catalogue.get(slug) and mode in MODES:
                    _save_visit(user, slug, mode, now)
        for slug in state["completed"]:
            topic = catalogue.get(slug)
            if topic:
                complete_topic(user, topic)
        if state["preferred_mode"] in MODES and not LearningPreference.objects.filter(user=user).exists():
            _save_preference(user, state["preferred_mode"])
        if state["last"] and catalogue.get(state["last"][0]) and state["last"][1] in MODES:
            _save_visit(user, state["last"][0], state["last"][1], timezone.now())
