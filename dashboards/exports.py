"""A cohort's CSV exports (gradebook, answers, question statistics), each cell neutralised against formula injection.

Usernames and answers are learner-controlled: a cell starting `=`, `+`, `-`, `@`, tab or carriage return is a formula
to a spreadsheet. Every export goes through `csv_response`, which applies OWASP's CSV-injection defence to every cell.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from cohorts.access import learner_ids
from cohorts.models import Cohort
from dashboards.progress_matrix import build_matrix
from dashboards.question_stats import topic_report
from quizzes.bank import get_bank
from quizzes.models import Answer, Attempt

# OWASP, "CSV Injection": the characters a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TAG = re.compile(r"<[^>]+>")


def neutralise(value: Any) -> str:
    """The cell as text a spreadsheet shows as is: a leading single quote disarms what would start a formula.

    Numbers we computed stay numbers (a negative discrimination index is not a formula); anything else is text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Every cell neutralised and quoted (OWASP: quote each field too, so separators inside it stay inside it)."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download, so large cohorts start downloading at once."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def html_to_text(rendered_html: str) -> str:
    """Authored HTML as one line of text: tags dropped (code keeps its spacing), entities decoded, whitespace folded."""
    return " ".join(html.unescape(TAG.sub("", rendered_html)).split())


def score(value: float | None) -> float | str:
    """A percentage or statistic to one decimal, or an empty cell."""
    return "" if value is None else round(value, 1)


def latest_scores(user_ids: list[int]) -> dict[tuple[int, str], float | None]:
    """Each learner's score in their most recently finished attempt of each topic."""
    finished = Attempt.objects.filter(user_id__in=user_ids, finished_at__isnull=False).order_by("finished_at", "pk")
    return {
        (user_id, topic): value for user_id, topic, value in finished.values_list("user_id", "topic", "score_percent")
    }


def gradebook(cohort: Cohort) -> StreamingHttpResponse:
    """One row per learner: join date, last activity, topics completed, best and latest score per topic, totals, flags."""
    topics, rows = build_matrix(cohort)
    latest = latest_scores([row.user_id for row in rows])
    header = ["learner", "joined", "last_activity", "topics_completed"]
    for topic in topics:
        header += [f"{topic.number}. {topic.title}: best %", f"{topic.number}. {topic.title}: latest %"]
    header += ["hints", "runs", "flags"]

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            line: list[Any] = [
                row.username,
                row.joined_at.isoformat(timespec="seconds"),
                row.last_activity.isoformat(timespec="seconds") if row.last_activity else "",
                row.completed_count,
            ]
            for topic in topics:
                line += [score(row.cells[topic.slug].best_score), score(latest.get((row.user_id, topic.slug)))]
            cells = row.cells.values()
            line += [sum(cell.hints for cell in cells), sum(cell.runs for cell in cells), "; ".join(row.flags)]
            yield line

    return csv_response(f"cohort-{cohort.pk}-gradebook.csv", header, lines())


def answers(cohort: Cohort) -> StreamingHttpResponse:
    """Every answer of the cohort's learners, with the question and choice text, streamed from the database."""
    rows = (
        Answer.objects.filter(attempt__user_id__in=learner_ids(cohort))
        .order_by("attempt__user__username", "answered_at")
        .values_list(
            "attempt__user__username",
            "attempt__topic",
            "attempt_id",
            "question_id",
            "chosen",
            "correct",
            "seconds_taken",
            "answered_at",
        )
    )
    questions = get_bank().questions
    header = ["learner", "topic", "attempt", "question", "question_text", "chosen", "chosen_text", "correct"]
    header += ["seconds", "answered_at"]

    def lines() -> Iterator[list[Any]]:
        for username, topic, attempt_id, qid, chosen, correct, seconds, when in rows.iterator(chunk_size=2000):
            question = questions.get(qid)
            choices = question.choices if question else {}
            chosen_text = " | ".join(html_to_text(choices[key].text_html) for key in chosen if key in choices)
            stem = html_to_text(question.stem_html) if question else ""
            yield [username, topic, attempt_id, qid, stem, " ".join(chosen), chosen_text, int(correct)] + [
                round(seconds),
                when.isoformat(timespec="seconds"),
            ]

    return csv_response(f"cohort-{cohort.pk}-answers.csv", header, lines())


def question_statistics(cohort: Cohort, topic: str, selection: str) -> StreamingHttpResponse:
    """Question statistics of one topic over the attempts `selection` counts (the page's choice)."""
    reports = topic_report(cohort, topic, selection).questions
    header = ["question", "difficulty", "attempts", "facility", "sd", "discrimination_index"]
    header += ["discriminative_efficiency", "choices", "flags"]
    lines = (
        [
            report.question.id,
            report.question.difficulty,
            report.stats.n,
            score(report.stats.facility),
            score(report.stats.standard_deviation),
            score(report.stats.discrimination_index),
            score(report.stats.discriminative_efficiency),
            " ".join(f"{key}={count}" for key, count in report.stats.choice_frequencies.items()),
            "; ".join(report.stats.flags),
        ]
        for report in reports
    )
    return csv_response(f"cohort-{cohort.pk}-{topic}-questions.csv", header, lines)
