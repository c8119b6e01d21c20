"""Everything that writes quiz rows. Views and (later) consumers call these; dashboards subscribe to their announcements."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from activity import announce
from lessons.catalogue import Topic, get_catalogue
from lessons.catalogue.types import QuizConfig
from lessons.learner_progress import complete_topic
from quizzes.bank import Question, get_bank
from quizzes.models import Answer, Attempt, HintReveal

SESSION_TOKEN_KEY = "quiz_owner_token"


class QuizError(Exception):
    """A request the quiz cannot accept; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadAnswer(QuizError):
    status = 400


class AttemptClosed(QuizError):
    status = 409


def owner_filter(request: HttpRequest) -> dict[str, object]:
    """The lookup that selects the current visitor's own attempts."""
    if request.user.is_authenticated:
        return {"user": request.user}
    token = request.session.get(SESSION_TOKEN_KEY)
    return {"user": None, "anon_token": token} if token else {"pk__in": []}


def own_attempts(request: HttpRequest) -> QuerySet[Attempt]:
    return Attempt.objects.filter(**owner_filter(request))


def get_attempt_or_404(request: HttpRequest, pk: int) -> Attempt:
    """The visitor's own attempt; anyone else's is indistinguishable from a missing one."""
    try:
        attempt = own_attempts(request).get(pk=pk)
    except Attempt.DoesNotExist:
        raise Http404("No such attempt.") from None
    if request.user.is_authenticated:
        attempt.user = request.user  # its owner, loaded already: announcing an answer needs no query for it
    return attempt


def unfinished_attempt(request: HttpRequest, topic: Topic) -> Attempt | None:
    return own_attempts(request).filter(topic=topic.slug, finished_at__isnull=True).order_by("-started_at").first()


def draw_questions(topic_slug: str, quiz: QuizConfig, rng: random.Random) -> list[Question]:
    """The quiz's mix, easy questions first, each difficulty sampled at random from the topic's bank."""
    pool = get_bank().for_topic(topic_slug)
    drawn: list[Question] = []
    for difficulty, count in quiz.mix.items():
        candidates = [question for question in pool if question.difficulty == difficulty]
        drawn.extend(rng.sample(candidates, count))
    return drawn


def start_attempt(request: HttpRequest, topic: Topic, mode: str, *, seed: int | None = None) -> Attempt:
    """Create an attempt with its questions drawn and each question's choices shuffled and stored."""
    if topic.quiz is None:
        raise Http404("This topic has no quiz.")
    if mode not in Attempt.Mode.values:
        raise BadAnswer(f"Unknown quiz mode {mode!r}; choose practice or test.")
    rng = random.Random(seed)
    questions = draw_questions(topic.slug, topic.quiz, rng)
    orders = {}
    for question in questions:
        keys = list(question.choices)
        rng.shuffle(keys)
        orders[question.id] = keys
    owner = {"user": request.user} if request.user.is_authenticated else {"anon_token": session_token(request)}
    return Attempt.objects.create(
        **owner,
        topic=topic.slug,
        mode=mode,
        question_ids=[question.id for question in questions],
        choice_orders=orders,
        hint_penalty=topic.quiz.hint_penalty,
        pass_percent=topic.quiz.pass_percent,
        started_at=timezone.now(),
        content_hash=topic.content_hash,
    )


def session_token(request: HttpRequest) -> str:
    """The anonymous owner token of this browser session, created on first use."""
    token = request.session.get(SESSION_TOKEN_KEY)
    if not token:
        token = secrets.token_hex(16)
        request.session[SESSION_TOKEN_KEY] = token
    return token


def question_of(attempt: Attempt, question_id: str) -> Question:
    if question_id not in attempt.question_ids:
        raise BadAnswer(f"Question {question_id!r} is not part of this attempt.")
    question = get_bank().questions.get(question_id)
    if question is None:
        raise BadAnswer(f"Question {question_id!r} no longer exists in the question bank.")
    return question


def check_open(attempt: Attempt) -> None:
    if attempt.is_finished:
        raise AttemptClosed("This attempt is finished; its answers can no longer change.")


def seconds_since_last_activity(attempt: Attempt, now: datetime) -> float:
    last = attempt.answers.order_by("-answered_at").values_list("answered_at", flat=True).first() or attempt.started_at
    return max(0.0, (now - last).total_seconds())


def submit_answer(attempt: Attempt, question_id: str, chosen: list[str]) -> Answer:
    """Grade and save an answer. Practice answers are final; test answers may change until the attempt is submitted.

    Repeating the same answer is a no-op, also under concurrent requests (the unique constraint decides the winner).
    """
    check_open(attempt)
    question = question_of(attempt, question_id)
    keys = sorted(set(chosen))
    if not keys:
        raise BadAnswer("Choose an answer first.")
    unknown = [key for key in keys if key not in question.choices]
    if unknown:
        raise BadAnswer(f"Choice {unknown[0]!r} is not one of this question's choices.")
    if not question.is_multiple and len(keys) > 1:
        raise BadAnswer("This question has exactly one correct answer; choose one.")
    correct = frozenset(keys) == question.answer
    now = timezone.now()
    # Kept short: on SQLite the transaction holds the database's one write lock from BEGIN, so grading comes first.
    with transaction.atomic():
        lock_open_attempt(attempt)
        existing = attempt.answers.filter(question_id=question_id).first()
        if existing is None:
            try:
                with transaction.atomic():
                    saved = Answer.objects.create(
                        attempt=attempt,
                        question_id=question_id,
                        chosen=keys,
                        correct=correct,
                        answered_at=now,
                        seconds_taken=seconds_since_last_activity(attempt, now),
                    )
            except IntegrityError:
                existing = attempt.answers.get(question_id=question_id)
        if existing is not None:
            saved = _change_answer(attempt, existing, keys, correct, now)
        if attempt.user is not None:
            announce(attempt.user, "answer", topic=attempt.topic, question=question_id, correct=saved.correct)
        return saved


def lock_open_attempt(attempt: Attempt) -> None:
    """Inside a transaction: lock the attempt's row until it ends, and refuse it if it was finished meanwhile."""
    finished_at = Attempt.objects.select_for_update().filter(pk=attempt.pk).values_list("finished_at", flat=True).get()
    if finished_at is not None:
        attempt.finished_at = finished_at
        check_open(attempt)


def _change_answer(attempt: Attempt, existing: Answer, keys: list[str], correct: bool, now: datetime) -> Answer:
    if existing.chosen == keys:
        return existing
    if attempt.mode == Attempt.Mode.PRACTICE:
        raise AttemptClosed("You already answered this question; practice answers are final.")
    existing.chosen, existing.correct, existing.answered_at = keys, correct, now
    existing.changed_count += 1
    existing.save(update_fields=["chosen", "correct", "answered_at", "changed_count"])
    return existing


def reveal_hint(attempt: Attempt, question_id: str) -> int:
    """Reveal the next hint of a question; returns how many are now revealed."""
    check_open(attempt)
    question = question_of(attempt, question_id)
    if attempt.mode == Attempt.Mode.PRACTICE and attempt.answers.filter(question_id=question_id).exists():
        raise AttemptClosed("This question is answered; its solution is shown instead of hints.")
    revealed = attempt.hint_reveals.filter(question_id=question_id).count()
    if revealed >= len(question.hints):
        raise BadAnswer("There are no more hints for this question.")
    try:
        with transaction.atomic():
            HintReveal.objects.create(
                attempt=attempt, question_id=question_id, hint_index=revealed, revealed_at=timezone.now()
            )
    except IntegrityError:
        return attempt.hint_reveals.filter(question_id=question_id).count()  # a concurrent request revealed it
    if attempt.user is not None:
        announce(attempt.user, "hint", topic=attempt.topic, question=question_id, number=revealed + 1)
    return revealed + 1


@dataclass(frozen=True)
class Grade:
    correct_count: int
    score_percent: float


def grade(attempt: Attempt) -> Grade:
    """Each correct answer is worth one mark, less the hint penalty per hint used (never below zero)."""
    answers = {answer.question_id: answer for answer in attempt.answers.all()}
    hints: dict[str, int] = {}
    for reveal in attempt.hint_reveals.all():
        hints[reveal.question_id] = hints.get(reveal.question_id, 0) + 1
    marks = 0.0
    correct = 0
    for question_id in attempt.question_ids:
        answer = answers.get(question_id)
        if answer and answer.correct:
            correct += 1
            marks += max(0.0, 1.0 - attempt.hint_penalty * hints.get(question_id, 0))
    total = len(attempt.question_ids)
    return Grade(correct_count=correct, score_percent=round(100 * marks / total, 1) if total else 0.0)


class UnansweredQuestions(Exception):
    """Submitting would leave questions unanswered; the learner confirms first (they count as wrong)."""

    def __init__(self, unanswered: int, total: int) -> None:
        super().__init__(f"{unanswered} of {total} unanswered")
        self.unanswered = unanswered
        self.total = total


def finish_attempt(
    attempt: Attempt, *, request: HttpRequest | None = None, unanswered_confirmed: bool = True
) -> Attempt:
    """Grade and close the attempt exactly once; a passed quiz completes the topic (in the session for a visitor).

    With `unanswered_confirmed` False, an attempt with unanswered questions raises UnansweredQuestions instead.
    """
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.is_finished:
            return locked
        unanswered = len(locked.question_ids) - locked.answers.count()
        if unanswered and not unanswered_confirmed:
            raise UnansweredQuestions(unanswered, len(locked.question_ids))
        result = grade(locked)
        locked.finished_at = timezone.now()
        locked.correct_count = result.correct_count
        locked.score_percent = result.score_percent
        locked.passed = result.score_percent >= locked.pass_percent
        locked.save(update_fields=["finished_at", "correct_count", "score_percent", "passed"])
        topic = get_catalogue().get(locked.topic)
        if locked.user is not None:
            announce(
                locked.user, "attempt_finished", topic=locked.topic, score=locked.score_percent, passed=locked.passed
            )
        if locked.passed and topic:
            if locked.user is not None:
                complete_topic(locked.user, topic, via="quiz")
            elif request is not None:
                complete_topic(request, topic, via="quiz")
    return locked


def claim_anonymous_attempts(request: HttpRequest, user: User) -> None:
    """Attempts a visitor made before logging in become the account's, passed ones completing their topics."""
    token = request.session.get(SESSION_TOKEN_KEY)
    if not token:
        return
    attempts = list(Attempt.objects.filter(user=None, anon_token=token))
    Attempt.objects.filter(pk__in=[a.pk for a in attempts]).update(user=user, anon_token="")
    catalogue = get_catalogue()
    for attempt in attempts:
        topic = catalogue.get(attempt.topic)
        if attempt.passed and topic:
            complete_topic(user, topic, via="quiz")
    del request.session[SESSION_TOKEN_KEY]


@dataclass(frozen=True)
class TopicScores:
    best: float
    latest: float
    attempts: int


def scores_by_topic(request: HttpRequest) -> dict[str, TopicScores]:
    """Best and latest finished score per topic for the current visitor, in one query."""
    scores: dict[str, TopicScores] = {}
    rows = (
        own_attempts(request)
        .filter(finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("topic", "score_percent")
    )
    for topic, score in rows:
        if score is None:  # finishing sets the score, so a finished attempt always has one
            continue
        previous = scores.get(topic)
        best = max(score, previous.best) if previous else score
        scores[topic] = TopicScores(best=best, latest=score, attempts=(previous.attempts if previous else 0) + 1)
    return scores
