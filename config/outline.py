"""The outline's HTML: the course rendered once per catalogue, and only each visitor's marks filled in per request.

Twenty topics with some 200 mode links took 3.9 ms of templates a request (bench/request_profile_RESULTS.md) though
only the marks differ between visitors: modes seen, completion, best quiz score, prediction score, challenge status.
The course is rendered with a slot in place of each mark; a request joins the rendered pieces with its marks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import connection
from django.http import HttpRequest
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from challenges.models import Submission
from challenges.progress import ChallengeStatus
from challenges.types import ChallengeSet
from lessons.catalogue import Catalogue
from lessons.learner_progress import Progress, load_progress
from lessons.models import ModeVisit, TopicCompletion
from predictions.services import Score
from predictions.services import scores_by_topic as prediction_scores
from quizzes.services import TopicScores, scores_by_topic

SLOT = "\x00"  # around each slot in the rendered course
KEY = "\x1f"  # between a slot's kind and its keys


@dataclass(frozen=True)
class Marks:
    """One visitor's marks on the outline, by topic slug (challenges by challenge slug)."""

    progress: Progress
    scores: dict[str, TopicScores]
    predictions: dict[str, Score]
    challenges: dict[str, ChallengeStatus]


# A learner's modes seen, topics completed and challenge gradings as one statement: through the ORM these were five
# queries and 1.6 ms of CPU. The rows: (0, topic, mode), (1, topic) and (2, challenge, gradings, passes, best seconds).
SEEN, COMPLETED, GRADED = 0, 1, 2
NO_GRADINGS = "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION)"  # typed for PostgreSQL
LEARNER_MARKS_SQL = (
    f'SELECT {SEEN}, topic, mode, {NO_GRADINGS} FROM "{ModeVisit._meta.db_table}" WHERE user_id = %(user)s '
    f'UNION ALL SELECT {COMPLETED}, topic, NULL, {NO_GRADINGS} FROM "{TopicCompletion._meta.db_table}" '
    "WHERE user_id = %(user)s "
    f"UNION ALL SELECT {GRADED}, challenge, NULL, COUNT(*), COUNT(CASE WHEN passed THEN 1 END), "
    f'MIN(CASE WHEN passed THEN seconds END) FROM "{Submission._meta.db_table}" '
    "WHERE learner_id = %(user)s AND finished_at IS NOT NULL GROUP BY challenge"
)


def outline_marks(request: HttpRequest) -> Marks:
    """The visitor's marks: a learner's progress and challenge statuses in one query, a visitor's from the session;
    quiz and prediction scores from their apps."""
    scores, predictions = scores_by_topic(request), prediction_scores(request.user)
    if not request.user.is_authenticated:
        return Marks(progress=load_progress(request), scores=scores, predictions=predictions, challenges={})
    progress, challenges = Progress(), {}
    with connection.cursor() as cursor:
        cursor.execute(LEARNER_MARKS_SQL, {"user": request.user.pk})
        for kind, slug, mode, gradings, passes, best in cursor.fetchall():
            if kind == SEEN:
                progress.seen.setdefault(slug, set()).add(mode)
            elif kind == COMPLETED:
                progress.completed.add(slug)
            else:
                challenges[slug] = ChallengeStatus(attempts=gradings, passes=passes, best_seconds=best)
    return Marks(progress=progress, scores=scores, predictions=predictions, challenges=challenges)


def _challenge_text(status: ChallengeStatus | None) -> str:
    if status is None:
        return "not tried"
    if status.best_seconds is None:
        return status.label.lower()
    return f"{status.label.lower()}, best {floatformat(status.best_seconds, 1)} s"


def _seen(marks: Marks, slug: str, mode: str) -> bool:
    return mode in marks.progress.seen.get(slug, ())


FILL: dict[str, Callable[..., str]] = {  # a slot's kind: its HTML from the visitor's marks and the slot's keys
    "complete_class": lambda marks, slug: " is-complete" if slug in marks.progress.completed else "",
    "seen_count": lambda marks, slug: str(len(marks.progress.seen.get(slug, ()))),
    "best_score": lambda marks, slug: (
        format_html(
            '<span data-testid="best-score">Best quiz score {}%</span>', floatformat(marks.scores[slug].best, 0)
        )
        if slug in marks.scores
        else ""
    ),
    "prediction_score": lambda marks, slug: (
        format_html(
            '<span data-testid="prediction-score">Predictions {} of {} right</span>',
            marks.predictions[slug].right,
            marks.predictions[slug].stops,
        )
        if slug in marks.predictions
        else ""
    ),
    "completed_badge": lambda marks, slug: (
        '<span class="badge badge-ok" data-testid="completed">Completed</span>'
        if slug in marks.progress.completed
        else ""
    ),
    "seen_class": lambda marks, slug, mode: ' class="seen"' if _seen(marks, slug, mode) else "",
    "seen_note": lambda marks, slug, mode: (
        '<span class="visually-hidden"> (seen)</span>' if _seen(marks, slug, mode) else ""
    ),
    "state": lambda marks, slug, challenge: (
        format_html("{}", marks.challenges[challenge].state) if challenge in marks.challenges else "not-tried"
    ),
    "state_text": lambda marks, slug, challenge: format_html("{}", _challenge_text(marks.challenges.get(challenge))),
}


def _slots(*keys: str, kinds: tuple[str, ...]) -> dict[str, str]:
    return {kind: SLOT + KEY.join((kind, *keys)) + SLOT for kind in kinds}


@dataclass(frozen=True)
class TopicRun:
    """One topic's stretch of the rendered course, from its first slot to its last."""

    topic: str
    slots: tuple[tuple[str, ...], ...]  # (kind, topic slug, further keys)
    pieces: tuple[str, ...]  # what lies between its slots
    unmarked: str  # the stretch for a reader with no marks on the topic, the usual case

    def fill(self, marks: Marks) -> str:
        html: list[str] = []
        for (kind, *keys), piece in zip(self.slots, (*self.pieces, ""), strict=True):
            html += (FILL[kind](marks, *keys), piece)
        return "".join(html)


@dataclass(frozen=True)
class Course:
    """The outline's list rendered for no reader: the topics' runs and the fixed HTML before, between and after them."""

    between: tuple[str, ...]
    runs: tuple[TopicRun, ...]
    challenge_topics: dict[str, str]  # challenge slug -> its topic's slug

    def topics_marked(self, marks: Marks) -> set[str]:
        challenged = {self.challenge_topics[slug] for slug in marks.challenges if slug in self.challenge_topics}
        return {*marks.progress.seen, *marks.progress.completed, *marks.scores, *marks.predictions, *challenged}


NO_MARKS = Marks(progress=Progress(), scores={}, predictions={}, challenges={})


def _render(catalogue: Catalogue, challenges: ChallengeSet) -> Course:
    """The course with a slot for each mark, cut into one run of slots per topic."""
    topic_kinds = ("complete_class", "seen_count", "best_score", "prediction_score", "completed_badge")
    entries = [
        {
            "topic": topic,
            "url": reverse("lessons:topic", args=[topic.slug]),
            "slots": _slots(topic.slug, kinds=topic_kinds),
            "modes": [
                {
                    "url": reverse("lessons:mode", args=[topic.slug, key]),
                    "label": page.label,
                    "slots": _slots(topic.slug, key, kinds=("seen_class", "seen_note")),
                }
                for key, page in topic.modes.items()
            ],
            "challenges": [
                (challenge, _slots(topic.slug, challenge.slug, kinds=("state", "state_text")))
                for challenge in challenges.challenges
                if challenge.topic == topic.slug
            ],
        }
        for topic in catalogue.topics
    ]
    parts = render_to_string("lessons/_outline_topics.html", {"entries": entries}).split(SLOT)
    pieces, slots = parts[::2], [tuple(slot.split(KEY)) for slot in parts[1::2]]
    between, runs = [pieces[0]], []
    first = 0
    for index, slot in enumerate(slots):
        if index + 1 == len(slots) or slots[index + 1][1] != slot[1]:  # the topic's last slot
            run = TopicRun(slot[1], tuple(slots[first : index + 1]), tuple(pieces[first + 1 : index + 1]), "")
            runs.append(replace(run, unmarked=run.fill(NO_MARKS)))
            between.append(pieces[index + 1])
            first = index + 1
    challenge_topics = {challenge.slug: challenge.topic for challenge in challenges.challenges}
    return Course(tuple(between), tuple(runs), challenge_topics)


_rendered: tuple[Catalogue | None, ChallengeSet | None, Course | None] = (None, None, None)


def outline_topics(catalogue: Catalogue, challenges: ChallengeSet, marks: Marks) -> SafeString:
    """The outline's list of topics with one visitor's marks (the course rendered again only when it is new)."""
    global _rendered
    course = _rendered[2]
    if course is None or _rendered[0] is not catalogue or _rendered[1] is not challenges:
        course = _render(catalogue, challenges)
        _rendered = (catalogue, challenges, course)
    marked = course.topics_marked(marks)
    html = [course.between[0]]
    for run, after in zip(course.runs, course.between[1:], strict=True):
        html += (run.fill(marks) if run.topic in marked else run.unmarked, after)
    return SafeString("".join(html))
