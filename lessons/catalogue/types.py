"""Immutable catalogue records: what every page reads, built once at load."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# Learning modes in their default tab order, with the label a learner sees.
MODE_LABELS = MappingProxyType(
    {
        "concept": "Concept",
        "execution": "Step-by-step execution",
        "walkthrough": "Annotated walkthrough",
        "playground": "Playground",
        "performance": "Performance",
        "mistakes": "Common mistakes",
        "practice": "Practice",
        "quiz": "Test this pattern",
        "snapshot": "Cheat sheet",
        "qa": "Interview Q&A",
    }
)
MODES = tuple(MODE_LABELS)
MIN_MODES = 6


@dataclass(frozen=True)
class Heading:
    """A heading inside a mode page, for the table of contents and search."""

    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class Section:
    """The text under one h2/h3 heading (anchor "" for text before the first), so search can link to it."""

    anchor: str
    text: str


@dataclass(frozen=True)
class PracticeChoice:
    key: str
    text_html: str


@dataclass(frozen=True)
class PracticeQuestion:
    """One practice question; `id` is its heading's anchor, so a learner's reveal row survives edits to the text."""

    id: str
    title: str
    prompt_html: str  # the heading and the question, without choices or solution
    choices: tuple[PracticeChoice, ...]
    answer: str | None  # the correct choice's key; None for an open question
    solution_html: str

    def choice(self, key: str) -> PracticeChoice | None:
        return next((choice for choice in self.choices if choice.key == key), None)


@dataclass(frozen=True)
class PracticePage:
    intro_html: str  # anything before the first question
    questions: tuple[PracticeQuestion, ...]
    text: str  # plain text for search, without the mark that tells which choice is right


@dataclass(frozen=True)
class ModePage:
    """One learning mode of one topic, pre-rendered."""

    key: str
    html: str
    headings: tuple[Heading, ...]
    text: str  # plain text for search
    sections: tuple[Section, ...] = ()
    practice: PracticePage | None = None  # the practice mode's questions, solutions kept apart

    @property
    def label(self) -> str:
        return MODE_LABELS[self.key]


@dataclass(frozen=True)
class QuizConfig:
    """How a topic's quiz draws its questions and what counts as a pass."""

    mix: MappingProxyType[str, int]  # difficulty -> how many questions of it a quiz draws
    pass_percent: int
    hint_penalty: float  # share of a question's mark that each revealed hint costs

    @property
    def size(self) -> int:
        return sum(self.mix.values())


@dataclass(frozen=True)
class Trace:
    """A recorded run of a sample consumer: the script that drove it and the events it produced."""

    name: str
    starter: str
    script: tuple[Any, ...]
    events: tuple[Any, ...]


@dataclass(frozen=True)
class Topic:
    """One Channels pattern with the learning modes it offers."""

    slug: str
    number: int
    title: str
    summary: str
    minutes: int
    prerequisites: tuple[str, ...]
    objectives: tuple[str, ...]
    modes: MappingProxyType[str, ModePage]  # mode key -> ModePage, in tab order
    quiz: QuizConfig | None
    trace: Trace | None
    starter: str | None
    starter_html: str
    content_hash: str

    @property
    def mode_keys(self) -> tuple[str, ...]:
        return tuple(self.modes)


@dataclass(frozen=True)
class Catalogue:
    """Every topic in course order, with lookups by slug."""

    topics: tuple[Topic, ...]
    by_slug: MappingProxyType[str, Topic] = field(repr=False)

    def get(self, slug: str) -> Topic | None:
        return self.by_slug.get(slug)

    def neighbours(self, topic: Topic) -> tuple[Topic | None, Topic | None]:
        """The previous and next topic in course order."""
        index = self.topics.index(topic)
        previous = self.topics[index - 1] if index > 0 else None
        following = self.topics[index + 1] if index + 1 < len(self.topics) else None
        return previous, following
