"""Per-topic question statistics for one cohort: feeds dashboards.statistics from the attempt rows."""

from __future__ import annotations

from dataclasses import dataclass

from cohorts.access import learner_ids
from cohorts.models import Cohort
from dashboards.charts import Bar, bars
from dashboards.statistics import AttemptScores, ItemStatistics, QuizStatistics, item_statistics, quiz_statistics
from quizzes.bank import Question, get_bank
from quizzes.models import Attempt

SCORE_BINS = 10  # the score distribution chart groups scores in 10-point bins


@dataclass(frozen=True)
class QuestionReport:
    question: Question
    stats: ItemStatistics


def finished_attempts(cohort: Cohort, topic: str) -> list[Attempt]:
    return list(
        Attempt.objects.filter(
            user_id__in=learner_ids(cohort), topic=topic, finished_at__isnull=False
        ).prefetch_related("answers")
    )


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


def topic_report(cohort: Cohort, topic: str) -> tuple[list[QuestionReport], QuizStatistics, list[Bar]]:
    attempts = finished_attempts(cohort, topic)
    scores, chosen = attempt_scores(attempts)
    reports = []
    for question in get_bank().for_topic(topic):
        containing = [s for s in scores if question.id in s.item_scores]
        stats = item_statistics(
            containing, question.id, question.difficulty, chosen.get(question.id, []), choices=tuple(question.choices)
        )
        reports.append(QuestionReport(question, stats))
    items = sorted({qid for s in scores for qid in s.item_scores})
    return reports, quiz_statistics(scores, items), score_distribution(attempts)


def score_distribution(attempts: list[Attempt]) -> list[Bar]:
    """Finished attempts per 10-point score band."""
    counts = [0] * SCORE_BINS
    for attempt in attempts:
        counts[min(SCORE_BINS - 1, int((attempt.score_percent or 0) // (100 / SCORE_BINS)))] += 1
    width = 100 // SCORE_BINS
    labels = [f"{i * width}–{100 if i == SCORE_BINS - 1 else (i + 1) * width - 1}%" for i in range(SCORE_BINS)]
    return bars(list(zip(labels, counts, strict=True)))
