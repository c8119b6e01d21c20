"""The question bank: content/quizzes/<topic>.yaml validated into immutable questions, once per process."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.conf import settings

from lessons.catalogue import Catalogue, CatalogueError, ContentError, get_catalogue, snapshot
from lessons.catalogue.loader import as_plain
from lessons.catalogue.rendering import render_markdown
from lessons.catalogue.yaml_lines import LineDict, LineList, load_yaml
from playground.sandbox.shared import protocol

DIFFICULTIES = ("easy", "medium", "hard")
KINDS = ("single", "multiple", "code")
QUESTION_KEYS = {"id", "difficulty", "kind", "stem", "choices", "answer", "hints", "solution", "mistakes", "verify"}
CHOICE_KEYS = {"key", "text", "feedback", "mistake"}
VERIFY_OPS = set(protocol.CLIENT_OPS)
VERIFY_EVENTS = {*protocol.CONSUMER_EVENTS, protocol.ERROR, protocol.OUTPUT}
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def inline_markdown(text: str) -> str:
    """Render a short Markdown string without the wrapping paragraph."""
    html, _ = render_markdown(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


@dataclass(frozen=True)
class Choice:
    key: str
    text_html: str
    feedback_html: str
    mistake: str


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; rows refer to it by its stable id."""

    id: str
    topic: str
    difficulty: str
    kind: str
    stem_html: str
    choices: MappingProxyType[str, Choice]  # in authored order
    answer: frozenset[str]
    hints: tuple[str, ...]
    solution: tuple[str, ...]
    mistakes: tuple[str, ...]
    verify: MappingProxyType[str, Any] | None  # consumer source, script, expect, forbid: plain YAML data

    @property
    def is_multiple(self) -> bool:
        return self.kind == "multiple"


@dataclass(frozen=True)
class Bank:
    questions: MappingProxyType[str, Question]  # by id
    by_topic: MappingProxyType[str, tuple[Question, ...]]  # by topic slug

    def for_topic(self, slug: str) -> tuple[Question, ...]:
        return self.by_topic.get(slug, ())


class QuizFileReader:
    """Validates one quiz file; every problem is reported with file, line and field."""

    def __init__(self, path: Path, content_dir: Path, errors: list[ContentError]) -> None:
        self.path = path
        self.display = path.relative_to(content_dir.parent)
        self.errors = errors
        self.topic = path.stem

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(ContentError(self.display, line, field, message))

    def read(self) -> list[Question]:
        data = load_yaml(self.path, self.display, self.errors)
        if data is None:
            return []
        if not isinstance(data, LineDict) or set(data) != {"questions"} or not isinstance(data["questions"], LineList):
            self.error(getattr(data, "line", 1), "questions", "the file must hold exactly one key, questions: a list")
            return []
        questions = []
        for index, item in enumerate(data["questions"]):
            question = self.read_question(item, index, data["questions"].line_of(index))
            if question:
                questions.append(question)
        return questions

    def read_question(self, item: Any, index: int, line: int) -> Question | None:
        where = f"questions[{index}]"
        if not isinstance(item, LineDict):
            self.error(line, where, "must be a mapping")
            return None
        before = len(self.errors)
        qid = item.get("id")
        if isinstance(qid, str) and ID_PATTERN.match(qid):
            where = qid
        else:
            self.error(item.line_of("id"), f"{where}.id", "is required: lower-case words joined by hyphens")
        for key in item:
            if key not in QUESTION_KEYS:
                self.error(
                    item.line_of(key), f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(QUESTION_KEYS))})"
                )
        for key in QUESTION_KEYS - {"verify"}:
            if key not in item:
                self.error(item.line, f"{where}.{key}", "is required")
        if len(self.errors) > before:
            return None
        if item["difficulty"] not in DIFFICULTIES:
            self.error(item.line_of("difficulty"), f"{where}.difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
        if item["kind"] not in KINDS:
            self.error(item.line_of("kind"), f"{where}.kind", f"must be one of {', '.join(KINDS)}")
        if not isinstance(item["stem"], str) or not item["stem"].strip():
            self.error(item.line_of("stem"), f"{where}.stem", "must be non-empty Markdown text")
        choices = self.read_choices(item, where)
        answer = self.read_answer(item, where, choices)
        lists = {}
        for key in ("hints", "solution", "mistakes"):
            value = item[key]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                self.error(item.line_of(key), f"{where}.{key}", "must be a non-empty list of text")
            lists[key] = tuple(inline_markdown(v) for v in value) if isinstance(value, list) else ()
        verify = self.read_verify(item, where)
        if len(self.errors) > before:
            return None
        return Question(
            id=item["id"],
            topic=self.topic,
            difficulty=item["difficulty"],
            kind=item["kind"],
            stem_html=render_markdown(item["stem"])[0],
            choices=MappingProxyType(choices),
            answer=frozenset(answer),
            hints=lists["hints"],
            solution=lists["solution"],
            mistakes=lists["mistakes"],
            verify=verify,
        )

    def read_choices(self, item: LineDict, where: str) -> dict[str, Choice]:
        raw = item["choices"]
        if not isinstance(raw, LineList) or not 2 <= len(raw) <= 6:
            self.error(item.line_of("choices"), f"{where}.choices", "must be a list of 2 to 6 choices")
            return {}
        choices: dict[str, Choice] = {}
        for index, choice in enumerate(raw):
            field = f"{where}.choices[{index}]"
            if not isinstance(choice, LineDict):
                self.error(raw.line_of(index), field, "must be a mapping with key, text and feedback")
                continue
            unknown = set(choice) - CHOICE_KEYS
            if unknown:
                self.error(choice.line, field, f"unknown key {sorted(unknown)[0]!r}")
            key = choice.get("key")
            if not isinstance(key, str) or not re.fullmatch(r"[a-z]", key):
                self.error(choice.line_of("key"), f"{field}.key", "must be a single lower-case letter")
                continue
            if key in choices:
                self.error(choice.line_of("key"), f"{field}.key", f"duplicate choice key {key!r}")
                continue
            text, feedback = choice.get("text"), choice.get("feedback")
            if not isinstance(text, str) or not text.strip():
                self.error(choice.line_of("text"), f"{field}.text", "is required")
                continue
            if not isinstance(feedback, str) or not feedback.strip():
                self.error(choice.line_of("feedback"), f"{field}.feedback", "is required")
                continue
            choices[key] = Choice(
                key=key,
                text_html=inline_markdown(str(text)),
                feedback_html=inline_markdown(feedback),
                mistake=str(choice.get("mistake", "")),
            )
        return choices

    def read_answer(self, item: LineDict, where: str, choices: dict[str, Choice]) -> list[str]:
        answer = item["answer"]
        line = item.line_of("answer")
        if not isinstance(answer, list) or not answer or not all(isinstance(k, str) for k in answer):
            self.error(line, f"{where}.answer", "must be a list of choice keys")
            return []
        unknown = [key for key in answer if key not in choices]
        if unknown and choices:
            self.error(line, f"{where}.answer", f"names choice {unknown[0]!r}, which the question does not have")
        if item.get("kind") in ("single", "code") and len(answer) != 1:
            self.error(line, f"{where}.answer", f"a {item.get('kind')} question has exactly one correct key")
        for key in answer:
            if key in choices and choices[key].mistake:
                self.error(line, f"{where}.answer", f"choice {key!r} is keyed correct but carries a mistake note")
        return answer

    def read_verify(self, item: LineDict, where: str) -> MappingProxyType[str, Any] | None:
        verify = item.get("verify")
        if verify is None:
            return None
        field = f"{where}.verify"
        line = item.line_of("verify")
        if (
            not isinstance(verify, LineDict)
            or not {"consumer", "script", "expect"} <= set(verify)
            or set(verify) - {"consumer", "script", "expect", "forbid"}
        ):
            self.error(line, field, "needs consumer, script and expect (and optionally forbid)")
            return None
        if not isinstance(verify["consumer"], str):
            self.error(verify.line_of("consumer"), f"{field}.consumer", "must be Python source text")
        else:
            try:
                compile(verify["consumer"], f"{self.display}:{field}", "exec")
            except SyntaxError as exc:
                self.error(
                    verify.line_of("consumer") + (exc.lineno or 0), f"{field}.consumer", f"does not compile: {exc.msg}"
                )
        for key, allowed, name in (
            ("script", VERIFY_OPS, "type"),
            ("expect", VERIFY_EVENTS, "type"),
            ("forbid", VERIFY_EVENTS, "type"),
        ):
            steps = verify.get(key, LineList())
            if not isinstance(steps, LineList) or (key != "forbid" and not steps):
                self.error(verify.line_of(key), f"{field}.{key}", "must be a non-empty list")
                continue
            for index, step in enumerate(steps):
                if not isinstance(step, dict) or step.get(name) not in allowed:
                    self.error(
                        steps.line_of(index),
                        f"{field}.{key}[{index}]",
                        f"must be a mapping whose {name} is one of {', '.join(sorted(allowed))}",
                    )
        return MappingProxyType(as_plain(verify))


def check_against_catalogue(
    bank_by_topic: dict[str, list[Question]], catalogue: Catalogue, content_dir: Path, errors: list[ContentError]
) -> None:
    """Every quiz file belongs to a topic, and every topic with a quiz can draw its mix."""
    for slug in bank_by_topic:
        if catalogue.get(slug) is None:
            errors.append(
                ContentError(Path("content/quizzes") / f"{slug}.yaml", 0, "", f"no topic has the slug {slug!r}")
            )
    for topic in catalogue.topics:
        if topic.quiz is None:
            continue
        pool = bank_by_topic.get(topic.slug, [])
        for difficulty, needed in topic.quiz.mix.items():
            have = sum(1 for question in pool if question.difficulty == difficulty)
            if have < needed:
                errors.append(
                    ContentError(
                        Path("content/quizzes") / f"{topic.slug}.yaml",
                        0,
                        "questions",
                        f"the topic's quiz draws {needed} {difficulty} questions but the bank has {have}",
                    )
                )


def load_bank(content_dir: Path, catalogue: Catalogue) -> Bank:
    """Load every quiz file; raises CatalogueError listing all problems."""
    errors: list[ContentError] = []
    by_topic: dict[str, list[Question]] = {}
    questions: dict[str, Question] = {}
    for path in sorted((content_dir / "quizzes").glob("*.yaml")):
        reader = QuizFileReader(path, content_dir, errors)
        for question in reader.read():
            if question.id in questions:
                errors.append(
                    ContentError(
                        reader.display,
                        0,
                        question.id,
                        f"duplicate question id (also in {questions[question.id].topic})",
                    )
                )
                continue
            questions[question.id] = question
            by_topic.setdefault(question.topic, []).append(question)
    check_against_catalogue(by_topic, catalogue, content_dir, errors)
    if errors:
        raise CatalogueError(errors)
    return Bank(
        questions=MappingProxyType(questions),
        by_topic=MappingProxyType({slug: tuple(qs) for slug, qs in by_topic.items()}),
    )


@cache
def get_bank() -> Bank:
    """The process-wide question bank, from its disk snapshot when the content and this code have not changed."""
    content_dir, catalogue = Path(settings.CONTENT_DIR), get_catalogue()
    code = [Path(__file__), Path(protocol.__file__), *Path(snapshot.__file__).parent.glob("*.py")]
    return snapshot.load_or_build(
        "bank", snapshot.version_key(content_dir, code), lambda: load_bank(content_dir, catalogue)
    )
