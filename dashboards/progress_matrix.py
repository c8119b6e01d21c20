"""The progress matrix: learners × topics in a fixed number of queries, with learners who look stuck flagged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from challenges.loader import get_challenges
from challenges.progress import statuses as challenge_statuses
from cohorts.models import Cohort, Membership
from lessons.catalogue import Topic, get_catalogue
from lessons.models import ModeVisit, TopicCompletion
from playground.models import Run
from quizzes.models import Attempt, HintReveal


@dataclass
class Cell:
    topic: str
    mode_total: int
    modes_seen: int = 0
    completed: bool = False
    best_score: float | None = None
    failed_attempts: int = 0
    hints: int = 0
    runs: int = 0
    challenges: int = 0  # the topic's challenges
    challenges_tried: int = 0
    challenges_passed: int = 0
    challenge_attempts: int = 0
    challenge_hints: int = 0


@dataclass
class LearnerRow:
    user_id: int
    username: str
    joined_at: datetime
    cells: dict[str, Cell] = field(default_factory=dict)
    last_activity: datetime | None = None
    run_errors_recently: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def completed_count(self) -> int:
        return sum(cell.completed for cell in self.cells.values())

    @property
    def cells_html(self) -> SafeString:
        """The row's cells, built in Python: the template engine is too slow for thousands of cells."""
        return mark_safe("".join(cell_html(cell) for cell in self.cells.values()))

    @property
    def mean_best_score(self) -> float:
        scores = [cell.best_score for cell in self.cells.values() if cell.best_score is not None]
        return sum(scores) / len(scores) if scores else -1.0


def cell_html(cell: Cell) -> str:
    """One matrix cell: modes seen, completion, best score, hints, runs and challenges (every value is ours or escaped)."""
    done = ' class="done"' if cell.completed else ""
    parts = [f'<td data-topic="{escape(cell.topic)}"{done}>{cell.modes_seen}/{cell.mode_total}']
    if cell.completed:
        parts.append(' ✓<span class="visually-hidden"> completed</span>')
    score = "" if cell.best_score is None else f"{cell.best_score:.0f}%"
    parts.append(f' <span class="cell-score" data-score>{score}</span>')
    if cell.hints:
        parts.append(f' <span title="hints used">{cell.hints}h</span>')
    if cell.runs:
        parts.append(f' <span title="playground runs">▶{cell.runs}</span>')
    if cell.challenges_tried or cell.challenge_hints:
        title = (
            f"challenges passed of the topic's {cell.challenges}: {cell.challenge_attempts} gradings, "
            f"{cell.challenge_hints} challenge hints"
        )
        passed = ' class="challenges-passed"' if cell.challenges_passed == cell.challenges else ""
        parts.append(
            f' <span title="{title}" data-challenges{passed}>◆{cell.challenges_passed}/{cell.challenges}'
            f'<span class="visually-hidden"> challenges passed, {cell.challenge_attempts} gradings</span></span>'
        )
    parts.append("</td>")
    return "".join(parts)


# A run that failed to load, or whose consumer raised while it ran (an exception in connect(), receive()...).
RAISED_AN_ERROR = Q(end_reason=Run.EndReason.ERROR) | Q(error_count__gt=0)


def _cell(rows: dict[int, LearnerRow], user_id: int, topic: str) -> Cell | None:
    row = rows.get(user_id)
    if row is None or topic not in row.cells:
        return None
    return row.cells[topic]


def build_matrix(cohort: Cohort, only_user: int | None = None) -> tuple[list[Topic], list[LearnerRow]]:
    """One query per kind of activity, whatever the cohort's size; `only_user` builds that learner's row alone."""
    topics = list(get_catalogue().topics)
    members = Membership.objects.filter(cohort=cohort, role=Membership.Role.LEARNER)
    if only_user is not None:
        members = members.filter(user_id=only_user)
    joined = dict(members.values_list("user_id", "joined_at"))
    users = get_user_model().objects.filter(pk__in=list(joined)).order_by("username")
    rows = {
        u.pk: LearnerRow(u.pk, u.get_username(), joined[u.pk], {t.slug: Cell(t.slug, len(t.modes)) for t in topics})
        for u in users
    }
    ids = list(rows)
    starters = {t.starter: t.slug for t in topics if t.starter}

    for user_id, topic, count, last in (
        ModeVisit.objects.filter(user_id__in=ids)
        .values_list("user_id", "topic")
        .annotate(n=Count("id"), last=Max("last_seen"))
    ):
        if cell := _cell(rows, user_id, topic):
            cell.modes_seen = count
        rows[user_id].last_activity = max(filter(None, [rows[user_id].last_activity, last]))
    for user_id, topic in TopicCompletion.objects.filter(user_id__in=ids).values_list("user_id", "topic"):
        if cell := _cell(rows, user_id, topic):
            cell.completed = True
    attempts = Attempt.objects.filter(user_id__in=ids).values_list("user_id", "topic")
    for user_id, topic, best, failed, last in attempts.annotate(
        best=Max("score_percent"), failed=Count("id", filter=Q(passed=False)), last=Max("started_at")
    ):
        if cell := _cell(rows, user_id, topic):
            cell.best_score, cell.failed_attempts = best, failed
        rows[user_id].last_activity = max(filter(None, [rows[user_id].last_activity, last]))
    hints = HintReveal.objects.filter(attempt__user_id__in=ids).values_list("attempt__user_id", "attempt__topic")
    for user_id, topic, count in hints.annotate(n=Count("id")):
        if cell := _cell(rows, user_id, topic):
            cell.hints = count
    recent = timezone.now() - timedelta(days=1)
    runs = Run.objects.filter(learner_id__in=ids).values_list("learner_id", "starter")
    for user_id, starter, count, errors, last in runs.annotate(
        n=Count("id"),
        errors=Count("id", filter=RAISED_AN_ERROR & Q(started_at__gte=recent)),
        last=Max("started_at"),
    ):
        if (topic := starters.get(starter)) and (cell := _cell(rows, user_id, topic)):
            cell.runs += count
        rows[user_id].run_errors_recently += errors
        rows[user_id].last_activity = max(filter(None, [rows[user_id].last_activity, last]))
    challenge_topics = {challenge.slug: challenge.topic for challenge in get_challenges().challenges}
    for row in rows.values():
        for topic_slug in challenge_topics.values():
            if topic_slug in row.cells:
                row.cells[topic_slug].challenges += 1
    for (user_id, slug), status in challenge_statuses(ids).items():
        if (topic := challenge_topics.get(slug)) and (cell := _cell(rows, user_id, topic)):
            cell.challenges_tried += status.attempts > 0
            cell.challenges_passed += status.passes > 0
            cell.challenge_attempts += status.attempts
            cell.challenge_hints += status.hints_used
        if status.last_graded and user_id in rows:
            rows[user_id].last_activity = max(filter(None, [rows[user_id].last_activity, status.last_graded]))
    for row in rows.values():
        row.flags = stuck_flags(row)
    return topics, list(rows.values())


def stuck_flags(row: LearnerRow) -> list[str]:
    """Plain reasons a learner may need a hand; each threshold is a setting."""
    flags = []
    idle_days = settings.DASHBOARD_STUCK_IDLE_DAYS
    # Idle time counts from the later of the last activity and joining: a newcomer has not been idle for days.
    idle_since = max(filter(None, [row.last_activity, row.joined_at]))
    if idle_since < timezone.now() - timedelta(days=idle_days):
        flags.append(f"no progress for {idle_days}+ days")
    catalogue = get_catalogue()
    for slug, cell in row.cells.items():
        if cell.failed_attempts >= settings.DASHBOARD_STUCK_FAILED_ATTEMPTS and not cell.completed:
            topic = catalogue.get(slug)
            flags.append(f"{cell.failed_attempts} failed quiz attempts on {topic.title if topic else slug}")
    if row.run_errors_recently >= settings.DASHBOARD_STUCK_RUN_ERRORS:
        flags.append(f"{row.run_errors_recently} playground runs hit errors today")
    return flags


SORTS = {
    "name": lambda row: row.username.lower(),
    "completed": lambda row: (-row.completed_count, row.username.lower()),
    "score": lambda row: (-row.mean_best_score, row.username.lower()),
    "stuck": lambda row: (-len(row.flags), row.username.lower()),
}


def sort_and_filter(rows: list[LearnerRow], sort: str, query: str, stuck_only: bool) -> list[LearnerRow]:
    selected = [row for row in rows if query.lower() in row.username.lower() and (row.flags or not stuck_only)]
    return sorted(selected, key=SORTS.get(sort, SORTS["name"]))
