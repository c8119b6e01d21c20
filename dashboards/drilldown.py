"""One learner seen by an instructor: quiz attempts question by question, and a timeline, in words rather than ids."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.utils.safestring import SafeString, mark_safe

from challenges.models import Submission
from dashboards.challenge_stats import challenge_title
from lessons.catalogue import MODE_LABELS, get_catalogue
from lessons.models import ModeVisit
from playground.models import Run
from quizzes.bank import get_bank
from quizzes.models import Answer, Attempt

TIMELINE_LENGTH = 200  # most recent entries shown in a learner's activity timeline


def topic_title(slug: str) -> str:
    """The topic's title, or its slug if the content no longer has it."""
    topic = get_catalogue().get(slug)
    return topic.title if topic else slug


def mode_name(attempt: Attempt) -> str:
    """ "Practice" or "Test": the short name before the label's explanation."""
    return Attempt.Mode(attempt.mode).label.partition(":")[0]


@dataclass(frozen=True)
class QuestionLine:
    """One drawn question of an attempt: its text, the choices given, and the hints the learner revealed on it."""

    question_id: str
    stem_html: SafeString  # authored, reviewed content (the bank renders it)
    chosen_html: list[SafeString]
    answer: Answer | None
    hints: int


@dataclass(frozen=True)
class AttemptView:
    attempt: Attempt
    topic_title: str
    mode: str
    lines: list[QuestionLine]

    @property
    def hints(self) -> int:
        return sum(line.hints for line in self.lines)

    @property
    def answered(self) -> int:
        return sum(line.answer is not None for line in self.lines)


def question_line(question_id: str, answer: Answer | None, hints: int) -> QuestionLine:
    question = get_bank().questions.get(question_id)
    if question is None:  # the content changed since: say so rather than guess
        return QuestionLine(question_id, mark_safe(""), [], answer, hints)
    chosen = [] if answer is None else answer.chosen
    chosen_html = [mark_safe(question.choices[key].text_html) for key in chosen if key in question.choices]
    return QuestionLine(question_id, mark_safe(question.stem_html), chosen_html, answer, hints)


def attempt_views(user_id: int) -> list[AttemptView]:
    """The learner's attempts, newest first, each question in the order it was drawn."""
    attempts = (
        Attempt.objects.filter(user_id=user_id).prefetch_related("answers", "hint_reveals").order_by("-started_at")
    )
    views = []
    for attempt in attempts:
        answers = {answer.question_id: answer for answer in attempt.answers.all()}
        hints = Counter(reveal.question_id for reveal in attempt.hint_reveals.all())
        lines = [question_line(qid, answers.get(qid), hints[qid]) for qid in attempt.question_ids]
        views.append(AttemptView(attempt, topic_title(attempt.topic), mode_name(attempt), lines))
    return views


def timeline(user_id: int) -> list[tuple[datetime, str]]:
    """Lesson visits, quiz attempts, challenge gradings and playground runs of one learner, newest first."""
    visits = ModeVisit.objects.filter(user_id=user_id).order_by("-last_seen")[:TIMELINE_LENGTH]
    entries = [
        (visit.last_seen, f"read {topic_title(visit.topic)} · {MODE_LABELS.get(visit.mode, visit.mode)}")
        for visit in visits
    ]
    for attempt in Attempt.objects.filter(user_id=user_id).order_by("-started_at")[:TIMELINE_LENGTH]:
        title, mode = topic_title(attempt.topic), mode_name(attempt).lower()
        entries.append((attempt.started_at, f"started the {title} quiz ({mode})"))
        if attempt.finished_at:
            entries.append((attempt.finished_at, f"finished the {title} quiz: {attempt.score_percent:.0f}%"))
    gradings = Submission.objects.filter(learner_id=user_id, finished_at__isnull=False).order_by("-started_at")
    for grading in gradings.only("challenge", "started_at", "finished_at", "passed", "passed_tests", "total_tests")[
        :TIMELINE_LENGTH
    ]:
        verdict = "all passed" if grading.passed else f"{grading.passed_tests} of {grading.total_tests} passed"
        entries.append(
            (
                grading.finished_at or grading.started_at,
                f"ran the tests of “{challenge_title(grading.challenge)}”: {verdict}",
            )
        )
    for run in Run.objects.filter(learner_id=user_id).order_by("-started_at")[:TIMELINE_LENGTH]:
        ending = f" ({run.get_end_reason_display().lower()})" if run.end_reason else ""
        entries.append((run.started_at, f"ran {run.starter or 'own code'} in the playground{ending}"))
    return sorted(entries, key=lambda entry: entry[0], reverse=True)[:TIMELINE_LENGTH]
