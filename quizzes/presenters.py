"""Builds template context for quiz pages, revealing answers only when the rules allow it."""

from __future__ import annotations

from dataclasses import dataclass

from lessons.catalogue import get_catalogue
from quizzes.bank import Choice, Question, get_bank
from quizzes.models import Answer, Attempt


@dataclass(frozen=True)
class QuestionView:
    """One question of an attempt as the learner may see it right now."""

    attempt: Attempt
    question: Question
    position: int
    choices: tuple[Choice, ...]  # in this attempt's shuffled order
    answer: Answer | None
    hints: tuple[str, ...]  # revealed so far
    reveal: bool  # may the correct answer, feedback and solution be shown?

    @property
    def has_more_hints(self) -> bool:
        return len(self.hints) < len(self.question.hints)

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(self.answer.chosen) if self.answer else ()

    @property
    def input_type(self) -> str:
        return "checkbox" if self.question.is_multiple else "radio"


@dataclass(frozen=True)
class NavItem:
    """One link of the question navigator, with its state in words (the mark beside it is only a reminder)."""

    position: int
    state: str  # "not answered", "answered" (test mode), "right" or "wrong" (practice mode)
    current: bool

    @property
    def mark(self) -> str:
        return {"right": "✓", "wrong": "✗", "answered": "●"}.get(self.state, "○")


def navigator(attempt: Attempt, answers: dict[str, Answer], current_id: str | None) -> list[NavItem]:
    """Practice shows right or wrong at once; test mode shows only answered, since grading waits for submission."""
    items = []
    for position, question_id in enumerate(attempt.question_ids, start=1):
        answer = answers.get(question_id)
        if answer is None:
            state = "not answered"
        elif attempt.mode == Attempt.Mode.PRACTICE:
            state = "right" if answer.correct else "wrong"
        else:
            state = "answered"
        items.append(NavItem(position=position, state=state, current=question_id == current_id))
    return items


def _question_view(
    attempt: Attempt, question_id: str, answers: dict[str, Answer], hint_counts: dict[str, int]
) -> QuestionView:
    question = get_bank().questions[question_id]
    answer = answers.get(question_id)
    reveal = attempt.is_finished or (attempt.mode == Attempt.Mode.PRACTICE and answer is not None)
    order = attempt.choice_orders.get(question_id, list(question.choices))
    return QuestionView(
        attempt=attempt,
        question=question,
        position=attempt.question_ids.index(question_id) + 1,
        choices=tuple(question.choices[key] for key in order if key in question.choices),
        answer=answer,
        hints=question.hints[: hint_counts.get(question_id, 0)],
        reveal=reveal,
    )


def _load(attempt: Attempt) -> tuple[dict[str, Answer], dict[str, int]]:
    answers = {answer.question_id: answer for answer in attempt.answers.all()}
    hint_counts: dict[str, int] = {}
    for question_id in attempt.hint_reveals.values_list("question_id", flat=True):
        hint_counts[question_id] = hint_counts.get(question_id, 0) + 1
    return answers, hint_counts


def present_question(attempt: Attempt, question_id: str) -> dict[str, object]:
    answers, hint_counts = _load(attempt)
    current = question_id if attempt.mode == Attempt.Mode.PRACTICE else None
    return {
        "view": _question_view(attempt, question_id, answers, hint_counts),
        "attempt": attempt,
        "navigator": navigator(attempt, answers, current),
        "answered": len(answers),
    }


def present_attempt(attempt: Attempt, requested: str | None) -> dict[str, object]:
    answers, hint_counts = _load(attempt)
    views = [_question_view(attempt, qid, answers, hint_counts) for qid in attempt.question_ids]
    current = None
    if attempt.mode == Attempt.Mode.PRACTICE:
        if requested and requested.isdigit() and 1 <= int(requested) <= len(views):
            current = views[int(requested) - 1]
        else:
            current = next((view for view in views if view.answer is None), views[-1])
    return {
        "attempt": attempt,
        "topic": get_catalogue().get(attempt.topic),
        "views": views,
        "current": current,
        "navigator": navigator(attempt, answers, current.question.id if current else None),
        "answered": len(answers),
        "total": len(views),
    }


def present_review(attempt: Attempt) -> dict[str, object]:
    answers, hint_counts = _load(attempt)
    return {
        "attempt": attempt,
        "topic": get_catalogue().get(attempt.topic),
        "views": [_question_view(attempt, qid, answers, hint_counts) for qid in attempt.question_ids],
        "hints_used": sum(hint_counts.values()),
    }
