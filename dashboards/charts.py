"""Bar charts for the cohort page: completion per topic and activity per day, each with a table alternative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db.models import CharField, Count, Func
from django.utils import timezone

from dashboards.progress_matrix import LearnerRow
from lessons.catalogue import Topic
from quizzes.models import Answer

ACTIVITY_DAYS = 14
SLOT = 10  # SVG units per bar
CHART_HEIGHT = 40.0  # SVG units


@dataclass(frozen=True)
class Bar:
    """One bar of an SVG bar chart, with its geometry worked out here rather than in the template."""

    label: str
    count: int
    x: int
    height: float

    @property
    def y(self) -> float:
        return CHART_HEIGHT - self.height


def bars(labels_and_counts: list[tuple[str, int]]) -> list[Bar]:
    """Bars scaled so the tallest fills the chart."""
    tallest = max((count for _, count in labels_and_counts), default=0) or 1
    return [
        Bar(label, count, i * SLOT, CHART_HEIGHT * count / tallest)
        for i, (label, count) in enumerate(labels_and_counts)
    ]


def completion_per_topic(topics: list[Topic], rows: list[LearnerRow]) -> list[Bar]:
    """How many learners completed each topic."""
    return bars(
        [(f"{topic.number}. {topic.title}", sum(row.cells[topic.slug].completed for row in rows)) for topic in topics]
    )


def activity_per_day(learner_ids: list[int]) -> list[Bar]:
    """Answers given per day over the last two weeks."""
    since = (timezone.now() - timedelta(days=ACTIVITY_DAYS - 1)).date()
    start = datetime.combine(since, time.min, tzinfo=UTC)
    # The database's own DATE() groups rows; Django's TruncDate runs a Python function per row on SQLite.
    rows = (
        Answer.objects.filter(attempt__user_id__in=learner_ids, answered_at__gte=start)
        .annotate(day=Func("answered_at", function="DATE", output_field=CharField()))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = {str(day)[:10]: n for day, n in rows}
    days = [since + timedelta(days=offset) for offset in range(ACTIVITY_DAYS)]
    return bars([(day.strftime("%b %d"), counts.get(day.isoformat(), 0)) for day in days])
