"""Server-side SVG charts with axes, labels and values on the page (no hovering needed), each with a table of the
same figures and a sentence instead of an empty plot. Geometry is worked out here; the templates only draw it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import CharField, Count, Func
from django.utils import timezone

from dashboards.progress_matrix import LearnerRow
from lessons.catalogue import Topic
from quizzes.models import Answer

ACTIVITY_DAYS = 14
WIDTH = 400.0  # SVG units; text is 12 units, so it stays readable from a 390 px phone to a desktop column
LABEL_CHARACTERS = 22  # a horizontal bar's label is cut here (the table below the chart has it whole)


@dataclass(frozen=True)
class Tick:
    value: float
    label: str
    at: float  # x for a horizontal axis, y for a vertical one


def nice_ticks(maximum: float, most: int = 5) -> list[float]:
    """0 to a round top in at most `most` + 1 whole steps of 1, 2 or 5 x 10^n."""
    if maximum <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(maximum))
    for factor in (0.1, 0.2, 0.5, 1, 2, 5, 10):
        step = max(1.0, factor * magnitude)
        if math.ceil(maximum / step) <= most:
            break
    top = step * math.ceil(maximum / step)
    return [step * i for i in range(int(round(top / step)) + 1)]


def number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Bar:
    """One bar with where to draw it and where its value and label go."""

    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    value_x: float
    value_y: float
    label_x: float
    label_y: float
    short_label: str


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    caption: str
    label_heading: str
    value_heading: str
    empty_text: str
    axis_title: str
    horizontal: bool
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    width: float = WIDTH

    @property
    def empty(self) -> bool:
        return not any(bar.count for bar in self.bars)

    @property
    def axis_title_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2

    @property
    def axis_title_y(self) -> float:
        return self.height - 4


def column_chart(
    chart_id: str,
    caption: str,
    labels_and_counts: Sequence[tuple[str, int]],
    *,
    label_heading: str,
    value_heading: str,
    axis_title: str,
    empty_text: str,
    tick_labels: Sequence[str] | None = None,
) -> BarChart:
    """Vertical bars: a value axis on the left, each bar's value above it, a short label under it."""
    height, left, right, top, bottom = 230.0, 34.0, WIDTH - 6, 18.0, 190.0
    ticks_values = nice_ticks(max((count for _, count in labels_and_counts), default=0))
    top_value = ticks_values[-1]
    slot = (right - left) / max(1, len(labels_and_counts))
    bars = []
    for i, (label, count) in enumerate(labels_and_counts):
        bar_height = (bottom - top) * count / top_value
        x = left + i * slot + slot * 0.15
        short = tick_labels[i] if tick_labels else label
        middle = x + slot * 0.35
        bars.append(
            Bar(
                label,
                count,
                x,
                bottom - bar_height,
                slot * 0.7,
                bar_height,
                middle,
                bottom - bar_height - 4,
                middle,
                bottom + 15,
                short,
            )
        )
    ticks = [Tick(value, number(value), bottom - (bottom - top) * value / top_value) for value in ticks_values]
    return BarChart(
        chart_id,
        caption,
        label_heading,
        value_heading,
        empty_text,
        axis_title,
        False,
        height,
        left,
        right,
        top,
        bottom,
        bars,
        ticks,
    )


def row_chart(
    chart_id: str,
    caption: str,
    labels_and_counts: Sequence[tuple[str, int]],
    *,
    label_heading: str,
    value_heading: str,
    axis_title: str,
    empty_text: str,
) -> BarChart:
    """Horizontal bars for long labels (topics): the label left of each bar, its value at the bar's end."""
    row, left, right, top = 20.0, 186.0, WIDTH - 26, 6.0
    bottom = top + row * len(labels_and_counts)
    height = bottom + 40
    ticks_values = nice_ticks(max((count for _, count in labels_and_counts), default=0))
    top_value = ticks_values[-1]
    bars = []
    for i, (label, count) in enumerate(labels_and_counts):
        length = (right - left) * count / top_value
        y = top + i * row + 3
        short = label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"
        bars.append(
            Bar(label, count, left, y, length, row - 6, left + length + 4, y + row - 8, left - 6, y + row - 8, short)
        )
    ticks = [Tick(value, number(value), left + (right - left) * value / top_value) for value in ticks_values]
    return BarChart(
        chart_id,
        caption,
        label_heading,
        value_heading,
        empty_text,
        axis_title,
        True,
        height,
        left,
        right,
        top,
        bottom,
        bars,
        ticks,
    )


def completion_per_topic(topics: list[Topic], rows: list[LearnerRow]) -> BarChart:
    """How many learners completed each topic."""
    return row_chart(
        "completion",
        "Learners who completed each topic",
        [(f"{topic.number}. {topic.title}", sum(row.cells[topic.slug].completed for row in rows)) for topic in topics],
        label_heading="Topic",
        value_heading="Learners who completed it",
        axis_title="Learners who completed the topic",
        empty_text="No learner has completed a topic yet.",
    )


def activity_per_day(learner_ids: list[int]) -> BarChart:
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
    return column_chart(
        "activity-days",
        f"Answers given per day, last {ACTIVITY_DAYS} days (UTC)",
        [(day.strftime("%b %d"), counts.get(day.isoformat(), 0)) for day in days],
        label_heading="Day",
        value_heading="Answers",
        axis_title=f"Day of the month, {days[0]:%b %d} to {days[-1]:%b %d}",
        empty_text=f"No answers yet in the last {ACTIVITY_DAYS} days.",
        tick_labels=[str(day.day) for day in days],
    )


@dataclass(frozen=True)
class Point:
    label: str
    x_value: float
    y_value: float
    x: float
    y: float


SCATTER_LEFT, SCATTER_RIGHT, SCATTER_TOP, SCATTER_BOTTOM, SCATTER_HEIGHT = 44.0, WIDTH - 16, 10.0, 250.0, 290.0


def scatter_x(facility: float) -> float:
    return SCATTER_LEFT + (SCATTER_RIGHT - SCATTER_LEFT) * facility / 100


def scatter_y(discrimination: float) -> float:
    return SCATTER_BOTTOM - (SCATTER_BOTTOM - SCATTER_TOP) * (discrimination + 100) / 200


@dataclass(frozen=True)
class ScatterChart:
    """Facility (x, 0-100 %) against discrimination index (y, -100 to 100 %), with the band good questions sit in."""

    points: list[Point]
    unplotted: list[str]  # questions without both figures
    good: tuple[float, float, float, float]  # x, y, width, height of the shaded band
    chart_id: str = "facility-discrimination"
    caption: str = "Facility against discrimination index, one dot per question"
    empty_text: str = "No question has both figures yet: each needs at least two attempts that differ."
    plot_left: float = SCATTER_LEFT
    plot_right: float = SCATTER_RIGHT
    plot_top: float = SCATTER_TOP
    plot_bottom: float = SCATTER_BOTTOM
    height: float = SCATTER_HEIGHT
    width: float = WIDTH
    x_ticks: list[Tick] = field(default_factory=lambda: [Tick(v, f"{v:g}", scatter_x(v)) for v in range(0, 101, 20)])
    y_ticks: list[Tick] = field(default_factory=lambda: [Tick(v, f"{v:g}", scatter_y(v)) for v in range(-100, 101, 50)])

    @property
    def empty(self) -> bool:
        return not self.points

    @property
    def zero_y(self) -> float:
        return scatter_y(0)


def facility_discrimination(
    items: Sequence[tuple[str, float | None, float | None]],
    facility_band: tuple[float, float],
    min_discrimination: float,
) -> ScatterChart:
    """One dot per question that has both figures; the shaded band is facility inside `facility_band` and
    discrimination at or above `min_discrimination`, where neither of those two flags is raised."""
    unplotted = []
    together: dict[tuple[float, float], list[str]] = {}  # questions with the same figures share one labelled dot
    for label, facility, discrimination in items:
        if facility is None or discrimination is None:
            unplotted.append(label)
        else:
            together.setdefault((round(facility, 1), round(discrimination, 1)), []).append(label)
    points = [
        Point(", ".join(labels), facility, discrimination, scatter_x(facility), scatter_y(discrimination))
        for (facility, discrimination), labels in together.items()
    ]
    low, high = facility_band
    good = (scatter_x(low), SCATTER_TOP, scatter_x(high) - scatter_x(low), scatter_y(min_discrimination) - SCATTER_TOP)
    return ScatterChart(points, unplotted, good)
