"""Practice solutions shown on demand: graded here, remembered per learner (rows) or visitor (the session).

A question with choices is revealed only with a choice; the first answer stays, so a reload shows the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from lessons.catalogue import Topic, get_catalogue
from lessons.catalogue.types import PracticeQuestion
from lessons.models import PracticeReveal

SESSION_KEY = "practice_reveals"  # {topic slug: {question id: [chosen key or "", correct or None]}}


class PracticeError(Exception):
    """A reveal the server refuses; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reveal:
    chosen: str  # "" for an open question
    correct: bool | None  # None for an open question


@dataclass(frozen=True)
class PracticeItem:
    """One question as the learner may see it now: the solution and the right choice only once revealed."""

    question: PracticeQuestion
    reveal: Reveal | None
    error: str = ""


def practice_questions(topic: Topic) -> tuple[PracticeQuestion, ...]:
    page = topic.modes.get("practice")
    if page is None or page.practice is None:
        raise Http404("This topic has no practice mode.")
    return page.practice.questions


def find_question(topic: Topic, question_id: str) -> PracticeQuestion:
    question = next((q for q in practice_questions(topic) if q.id == question_id), None)
    if question is None:
        raise Http404("No such practice question.")
    return question


def load_reveals(request: HttpRequest, topic: Topic) -> dict[str, Reveal]:
    """The current visitor's revealed questions of one topic."""
    if request.user.is_authenticated:
        rows = PracticeReveal.objects.filter(user=request.user, topic=topic.slug)
        return {row.question: Reveal(chosen=row.chosen, correct=row.correct) for row in rows}
    stored = request.session.get(SESSION_KEY, {}).get(topic.slug, {})
    return {question_id: Reveal(chosen=chosen, correct=correct) for question_id, (chosen, correct) in stored.items()}


def grade(question: PracticeQuestion, chosen: list[str]) -> Reveal:
    """A question with choices needs exactly one of them; an open question takes none."""
    if not question.choices:
        return Reveal(chosen="", correct=None)
    if not chosen:
        raise PracticeError("Pick an answer first, then check it.")
    if len(chosen) > 1 or question.choice(chosen[0]) is None:
        raise PracticeError("Pick one of this question's choices.")
    return Reveal(chosen=chosen[0], correct=chosen[0] == question.answer)


def reveal_solution(request: HttpRequest, topic: Topic, question_id: str, chosen: list[str]) -> Reveal:
    """Grade and remember a reveal; asking again returns the first answer unchanged."""
    question = find_question(topic, question_id)
    existing = load_reveals(request, topic).get(question.id)
    if existing is not None:
        return existing
    reveal = grade(question, chosen)
    if request.user.is_authenticated:
        _save_row(request.user, topic.slug, question.id, reveal)
    else:
        stored = request.session.get(SESSION_KEY, {})
        stored.setdefault(topic.slug, {})[question.id] = [reveal.chosen, reveal.correct]
        request.session[SESSION_KEY] = stored
    return reveal


def _save_row(user: User, topic_slug: str, question_id: str, reveal: Reveal) -> None:
    try:
        with transaction.atomic():
            PracticeReveal.objects.create(
                user=user,
                topic=topic_slug,
                question=question_id,
                chosen=reveal.chosen,
                correct=reveal.correct,
                revealed_at=timezone.now(),
            )
    except IntegrityError:  # a concurrent request revealed it first; the first answer stays
        pass


def practice_items(request: HttpRequest, topic: Topic, error: tuple[str, str] | None = None) -> list[PracticeItem]:
    """Every practice question of a topic with its reveal; `error` is (question id, message) to show beside one."""
    reveals = load_reveals(request, topic)
    return [
        PracticeItem(
            question=question,
            reveal=reveals.get(question.id),
            error=error[1] if error and error[0] == question.id else "",
        )
        for question in practice_questions(topic)
    ]


def merge_session_reveals(request: HttpRequest, user: User) -> None:
    """A visitor's reveals become the account's at log-in or sign-up (questions that still exist only)."""
    stored = request.session.pop(SESSION_KEY, None)
    if not stored:
        return
    catalogue = get_catalogue()
    for slug, questions in stored.items():
        topic = catalogue.get(slug)
        if topic is None or "practice" not in topic.modes:
            continue
        known = {question.id for question in practice_questions(topic)}
        for question_id, (chosen, correct) in questions.items():
            if question_id in known:
                _save_row(user, slug, question_id, Reveal(chosen=chosen, correct=correct))
