"""Asking and grading predictions on the server, recording a signed-in learner's first answer per step, and scores.

A lesson trace stops where its author marked stops (content/predictions/); a finished run stops before every step
after its first. Whoever may open a replay may predict on it; only a signed-in viewer's answers are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from activity import announce
from cohorts.access import instructs_learner
from lessons.catalogue import get_catalogue
from playground import sharing
from playground.models import Run
from predictions.content import stops_for
from predictions.models import Prediction
from predictions.questions import Question, QuestionError, Stop, build_question, default_ask, grade

ANSWER_FIELD_CHARS = 400  # Prediction.answer's length: a long offered choice is stored cut, never refused
STEP_FIELDS = ("step", "client", "kind", "action", "evaluation", "result")  # the real step, shown after the answer


class PredictionError(Exception):
    """A question or answer the server refuses; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Source:
    """The trace predictions are asked on: a topic's lesson trace, or a run."""

    events: tuple[dict[str, Any], ...]
    seed: str  # makes the choice order stable per trace
    stops: tuple[Stop, ...]  # authored stops; empty when every_step
    every_step: bool
    topic: str = ""
    run: Run | None = None

    def stop_at(self, step: int) -> Stop:
        if self.every_step:
            row = next((event for event in self.events[1:] if event.get("step") == step), None)
            if row is not None:
                return Stop(step, default_ask(row))
        else:
            stop = next((stop for stop in self.stops if stop.step == step), None)
            if stop is not None:
                return stop
        raise PredictionError(f"Step {step} has no prediction to make.", 404)

    def question(self, step: int) -> Question:
        try:
            return build_question(self.events, self.stop_at(step), self.seed)
        except QuestionError as error:  # a run's row the generator cannot ask about
            raise PredictionError(str(error), 404) from None

    def recorded(self, user: User | AnonymousUser) -> Any:
        """The user's rows of this source (a queryset; none for a visitor)."""
        rows = Prediction.objects.filter(user_id=user.pk) if user.is_authenticated else Prediction.objects.none()
        return rows.filter(run=self.run) if self.run is not None else rows.filter(topic=self.topic, run__isnull=True)


def topic_source(slug: str) -> Source:
    topic = get_catalogue().get(slug)
    if topic is None or topic.trace is None or "execution" not in topic.modes:
        raise PredictionError("This topic has no step-by-step execution to predict.", 404)
    stops = stops_for(topic.trace.name)
    return Source(tuple(topic.trace.events), topic.trace.name, stops, every_step=False, topic=slug)


def run_source(user: User | AnonymousUser, pk: int, share: str) -> Source:
    """A run its viewer may open, as the replay page decides: owner, owner's instructor, or a valid share link."""
    run = Run.objects.filter(pk=pk).first()
    if run is None:
        raise PredictionError("No such run.", 404)
    allowed = isinstance(user, User) and (run.learner_id == user.pk or instructs_learner(user, run.learner_id))
    if not allowed and sharing.link_state(run, share) != "valid":
        raise PredictionError("No such run.", 404)
    if run.is_running:
        raise PredictionError("The run is still going: predict its steps once it has ended.", 409)
    events = tuple(sorted(run.events, key=lambda event: event["step"]))
    return Source(events, f"run-{run.pk}", (), every_step=True, run=run)


def check_rate(request: HttpRequest) -> None:
    """At most PREDICT_ANSWERS_PER_MINUTE answers a minute per user (per client address for a visitor)."""
    who = f"user-{request.user.pk}" if request.user.is_authenticated else f"ip-{request.META.get('REMOTE_ADDR', '')}"
    key = f"predict-rate:{who}"
    cache.add(key, 0, timeout=60)  # the minute starts at the first answer
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    if count > settings.PREDICT_ANSWERS_PER_MINUTE:
        raise PredictionError(
            f"At most {settings.PREDICT_ANSWERS_PER_MINUTE} predictions a minute; wait a moment and try again.", 429
        )


@dataclass(frozen=True)
class Score:
    answered: int
    right: int
    stops: int  # how many stops the trace has (every step after the first, for a run)

    def as_json(self) -> dict[str, int]:
        return {"answered": self.answered, "right": self.right, "stops": self.stops}


def score(user: User | AnonymousUser, source: Source) -> Score | None:
    """The user's recorded predictions on a source (steps that are still stops only); None for a visitor."""
    if not user.is_authenticated:
        return None
    steps = (
        [event["step"] for event in source.events[1:]] if source.every_step else [stop.step for stop in source.stops]
    )
    rows = source.recorded(user).filter(step__in=steps)
    return Score(rows.count(), rows.filter(correct=True).count(), len(steps))


@dataclass(frozen=True)
class Outcome:
    correct: bool
    expected: str
    step: dict[str, Any]  # the real row, in words
    recorded: bool  # this answer was stored now
    first: Prediction | None  # the earlier answer that stays scored, when there is one


def predict(user: User | AnonymousUser, source: Source, step: int, answer: str) -> Outcome:
    """Grade an answer against the recorded trace; a signed-in learner's first answer per step is stored."""
    question = source.question(step)
    if not question.choices and len(answer) > settings.PREDICT_ANSWER_MAX_CHARS:  # a choice is checked by the offer
        raise PredictionError(f"Answer in at most {settings.PREDICT_ANSWER_MAX_CHARS} characters.")
    try:
        correct = grade(question, answer)
    except QuestionError as error:
        raise PredictionError(str(error)) from None
    row = next(event for event in source.events if event.get("step") == step)
    shown = {name: row.get(name) for name in STEP_FIELDS}
    if not isinstance(user, User):
        return Outcome(correct, question.answer, shown, recorded=False, first=None)
    with transaction.atomic():
        prediction, created = Prediction.objects.get_or_create(
            user=user,
            topic=source.topic,
            run=source.run,
            step=step,
            defaults={
                "ask": question.ask,
                "answer": answer[:ANSWER_FIELD_CHARS],
                "correct": correct,
                "answered_at": timezone.now(),
            },
        )
        if created:
            announce(
                user,
                "prediction",
                topic=source.topic,
                run=source.run.pk if source.run else None,
                step=step,
                correct=correct,
            )
    return Outcome(correct, question.answer, shown, recorded=created, first=None if created else prediction)


@dataclass(frozen=True)
class PredictionSummary:
    """One trace or run a learner predicted on, for the instructor's drill-down."""

    label: str
    answered: int
    right: int
    last: Any


def learner_summary(user_id: int) -> list[PredictionSummary]:
    """Per lesson trace and per run, how many steps the learner predicted and how many right, newest first."""
    groups: dict[tuple[str, int | None], list[Prediction]] = {}
    for row in Prediction.objects.filter(user_id=user_id).order_by("-answered_at"):
        groups.setdefault((row.topic, row.run_id), []).append(row)
    catalogue = get_catalogue()
    summaries = []
    for (topic, run_id), rows in groups.items():
        found = catalogue.get(topic) if topic else None
        label = (found.title if found else topic) if topic else f"Run {run_id}"
        summaries.append(PredictionSummary(label, len(rows), sum(row.correct for row in rows), rows[0].answered_at))
    return summaries


def scores_by_topic(user: User | AnonymousUser) -> dict[str, Score]:
    """For the outline: each topic's recorded prediction score, for topics the user predicted on."""
    if not isinstance(user, User):
        return {}
    scores = {}
    catalogue = get_catalogue()
    for slug in Prediction.objects.filter(user=user, run__isnull=True).values_list("topic", flat=True).distinct():
        if catalogue.get(slug) is not None:
            found = score(user, topic_source(slug))
            if found is not None and found.answered:
                scores[slug] = found
    return scores
