"""Per-topic question statistics for one cohort: feeds dashboards.statistics from the attempt rows."""

from __future__ import annotations

from dataclasses import dataclass

from cohorts.access import learner_ids
from cohorts.models import Cohort
from dashboards.charts import BarChart, ScatterChart, column_chart, facility_discrimination
from dashboards.statistics import (
    ATTEMPT_SELECTIONS,
    DEFAULT_ATTEMPT_SELECTION,
    MAX_FACILITY,
    MIN_DISCRIMINATION_INDEX,
    MIN_FACILITY,
    AttemptScores,
    ItemStatistics,
    QuizStatistics,
    TakenAttempt,
    item_statistics,
    pick_attempts,
    quiz_statistics,
)
from quizzes.bank import Choice, Question, get_bank
from quizzes.models import Attempt

SCORE_BINS = 10  # the score distribution chart groups scores in 10-point bins


@dataclass(frozen=True)
class ChoiceReport:
    key: str
    choice: Choice
    count: int
    correct: bool


@dataclass(frozen=True)
class QuestionReport:
    number: int
    question: Question
    stats: ItemStatistics

    @property
    def choices(self) -> list[ChoiceReport]:
        """Each choice in authored order with how often it was picked and whether it is right."""
        return [
            ChoiceReport(key, choice, self.stats.choice_frequencies.get(key, 0), key in self.question.answer)
            for key, choice in self.question.choices.items()
        ]


@dataclass(frozen=True)
class TopicReport:
    selection: str
    selection_text: str
    questions: list[QuestionReport]
    quiz: QuizStatistics
    scores: BarChart
    scatter: ScatterChart


def finished_attempts(cohort: Cohort, topic: str, selection: str = DEFAULT_ATTEMPT_SELECTION) -> list[Attempt]:
    """The cohort's finished attempts at the topic that `selection` counts (see statistics.ATTEMPT_SELECTIONS)."""
    finished = list(
        Attempt.objects.filter(
            user_id__in=learner_ids(cohort), topic=topic, finished_at__isnull=False
        ).prefetch_related("answers")
    )
    taken = [TakenAttempt(a.pk, a.user_id or 0, a.started_at.timestamp(), a.score_percent or 0.0) for a in finished]
    counted = set(pick_attempts(taken, selection))
    return [attempt for attempt in finished if attempt.pk in counted]


def attempt_scores(attempts: list[Attempt]) -> tuple[list[AttemptScores], dict[str, list[list[str]]]]:
    """Each drawn item scores 1 when answered correctly, else 0 (unanswered items count as wrong)."""
    scores: list[AttemptScores] = []
    chosen: dict[str, list[list[str]]] = {}
    for attempt in attempts:
        answers = {answer.question_id: answer for answer in attempt.answers.all()}
        scores.append(
            AttemptScores(
                attempt.pk,
                {qid: float(bool(answers.get(qid) and answers[qid].correct)) for qid in attempt.question_ids},
            )
        )
        for qid, answer in answers.items():
            chosen.setdefault(qid, []).append(list(answer.chosen))
    return scores, chosen


def topic_report(cohort: Cohort, topic: str, selection: str = DEFAULT_ATTEMPT_SELECTION) -> TopicReport:
    """Item analysis of one topic's questions over the attempts `selection` counts, with its two charts."""
    attempts = finished_attempts(cohort, topic, selection)
    scores, chosen = attempt_scores(attempts)
    reports = []
    for number, question in enumerate(get_bank().for_topic(topic), start=1):
        containing = [s for s in scores if question.id in s.item_scores]
        stats = item_statistics(
            containing,
            question.id,
            question.difficulty,
            chosen.get(question.id, []),
            choices=tuple(question.choices),
            correct=question.answer,
        )
        reports.append(QuestionReport(number, question, stats))
    items = sorted({qid for s in scores for qid in s.item_scores})
    scatter = facility_discrimination(
        [(f"Q{r.number}", r.stats.facility, r.stats.discrimination_index) for r in reports],
        (MIN_FACILITY, MAX_FACILITY),
        MIN_DISCRIMINATION_INDEX,
    )
    return TopicReport(
        selection,
        ATTEMPT_SELECTIONS[selection],
        reports,
        quiz_statistics(scores, items),
        score_distribution(attempts),
        scatter,
    )


def score_distribution(attempts: list[Attempt]) -> BarChart:
    """Counted attempts per 10-point score band."""
    counts = [0] * SCORE_BINS
    for attempt in attempts:
        counts[min(SCORE_BINS - 1, int((attempt.score_percent or 0) // (100 / SCORE_BINS)))] += 1
    width = 100 // SCORE_BINS
    labels = [f"{i * width}–{100 if i == SCORE_BINS - 1 else (i + 1) * width - 1}%" for i in range(SCORE_BINS)]
    return column_chart(
        "scores",
        "Score distribution of the attempts analysed",
        list(zip(labels, counts, strict=True)),
        label_heading="Score",
        value_heading="Attempts",
        axis_title="Score (%), in bands of ten",
        empty_text="No finished attempts yet: the distribution appears once learners finish this quiz.",
        tick_labels=[str(i * width) for i in range(SCORE_BINS)],
    )
