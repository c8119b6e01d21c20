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
CHOICE_KEYS = {"key", "text", "feedback", "mistake", "claim", "no_claim"}
CLAIM_KEYS = ("expect", "forbid")
VERIFY_OPS = set(protocol.CLIENT_OPS)
VERIFY_EVENTS = {*protocol.CONSUMER_EVENTS, protocol.ERROR, protocol.OUTPUT}
EXCEPTION = "exception"  # pattern field of an `error` event: the raised type, by class name or dotted path
CONTAINS = "contains"  # {contains: text}: a pattern value that matches a string holding the text
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
    claim: MappingProxyType[str, Any] | None = None  # expect/forbid patterns the verify run shows if this were true
    no_claim: str = ""  # why no event of the run can show this distractor's claim


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
    verify: MappingProxyType[str, Any] | None  # consumer source and client script; the choices hold the claims

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
        verify = self.read_verify(item, where, choices)
        if verify is not None and len(self.errors) == before:
            self.check_claims_cover_choices(item, where, choices, answer)
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
            no_claim = choice.get("no_claim", "")
            if not isinstance(no_claim, str) or ("no_claim" in choice and not no_claim.strip()):
                self.error(choice.line_of("no_claim"), f"{field}.no_claim", "must say why no event can show the claim")
                continue
            if "claim" in choice and "no_claim" in choice:
                self.error(choice.line_of("claim"), f"{field}.claim", "a choice has a claim or a no_claim, not both")
                continue
            claim = self.read_claim(choice, field) if "claim" in choice else None
            choices[key] = Choice(
                key=key,
                text_html=inline_markdown(str(text)),
                feedback_html=inline_markdown(feedback),
                mistake=str(choice.get("mistake", "")),
                claim=claim,
                no_claim=no_claim.strip(),
            )
        return choices

    def read_claim(self, choice: LineDict, field: str) -> MappingProxyType[str, Any] | None:
        """A choice's claim: events in order (`expect`) and/or events that must not happen (`forbid`), not empty."""
        claim, field, line = choice["claim"], f"{field}.claim", choice.line_of("claim")
        if not isinstance(claim, LineDict) or not claim or set(claim) - set(CLAIM_KEYS):
            self.error(line, field, "must be a mapping with expect and/or forbid")
            return None
        if not any(isinstance(claim[key], list) and claim[key] for key in claim):
            self.error(line, field, "is empty: a claim every run satisfies proves nothing")
            return None
        valid = True
        for key in claim:
            steps = claim[key]
            if not isinstance(steps, LineList) or not steps:
                self.error(claim.line_of(key), f"{field}.{key}", "must be a non-empty list of event patterns")
                valid = False
                continue
            for index, pattern in enumerate(steps):
                problem = pattern_problem(pattern, expected=key == "expect")
                if problem:
                    self.error(steps.line_of(index), f"{field}.{key}[{index}]", problem)
                    valid = False
        return MappingProxyType(as_plain(claim)) if valid else None

    def check_claims_cover_choices(
        self, item: LineDict, where: str, choices: dict[str, Choice], answer: list[str]
    ) -> None:
        """A verify block ties the run to the key: the key is claimed, every distractor refutable or says why not."""
        claimed = {key: choice.claim for key, choice in choices.items() if choice.claim is not None}
        line, field = item.line_of("verify"), f"{where}.verify"
        if {"expect", "forbid"} & set(item["verify"]):
            self.error(line, field, "expect and forbid belong in the choices' claims, not on the block")
        if item["kind"] != "code":
            self.error(line, field, "a verify block and choice claims are for code questions")
        for key, choice in choices.items():
            if choice.claim is None and not choice.no_claim:
                self.error(line, field, f"choice {key!r} needs a claim (or a no_claim saying why none can be run)")
        for key in answer:
            if key in choices and choices[key].claim is None:
                self.error(line, field, f"the keyed choice {key!r} needs a claim the run proves")
        if not set(claimed) - set(answer):
            self.error(line, field, "at least one distractor needs a claim the run refutes")
        seen: dict[str, str] = {}
        for key, claim in claimed.items():
            text = repr(dict(claim))
            if text in seen:
                self.error(line, field, f"choices {seen[text]!r} and {key!r} make the same claim")
            seen.setdefault(text, key)

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

    def read_verify(self, item: LineDict, where: str, choices: dict[str, Choice]) -> MappingProxyType[str, Any] | None:
        verify = item.get("verify")
        field = f"{where}.verify"
        claimed = any(choice.claim is not None or choice.no_claim for choice in choices.values())
        if verify is None:
            if claimed:
                self.error(item.line, field, "choice claims need a verify block to run")
            return None
        line = item.line_of("verify")
        if (
            not isinstance(verify, LineDict)
            or not {"consumer", "script"} <= set(verify)
            or set(verify) - {"consumer", "script", "expect", "forbid"}
        ):
            self.error(line, field, "needs consumer and script (what the run shows goes in each choice's claim)")
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
        steps = verify["script"]
        if not isinstance(steps, LineList) or not steps:
            self.error(verify.line_of("script"), f"{field}.script", "must be a non-empty list")
        else:
            for index, step in enumerate(steps):
                if not isinstance(step, dict) or step.get("type") not in VERIFY_OPS:
                    self.error(
                        steps.line_of(index),
                        f"{field}.script[{index}]",
                        f"must be a mapping whose type is one of {', '.join(sorted(VERIFY_OPS))}",
                    )
        return MappingProxyType(as_plain(verify))


def pattern_problem(pattern: Any, expected: bool) -> str:
    """What is wrong with one claim pattern ("" if nothing): an event type, plain values or {contains: text}."""
    if not isinstance(pattern, dict) or pattern.get("type") not in VERIFY_EVENTS:
        return f"must be a mapping whose type is one of {', '.join(sorted(VERIFY_EVENTS))}"
    for name, value in pattern.items():
        if isinstance(value, dict):
            if set(value) != {CONTAINS} or not isinstance(value[CONTAINS], str) or not value[CONTAINS]:
                return f"{name}: a mapping value must be {{{CONTAINS}: non-empty text}}"
        elif value is not None and not isinstance(value, (str, int)):
            return f"{name}: must be text, a number, null or {{{CONTAINS}: text}}"
    if EXCEPTION in pattern and (pattern["type"] != protocol.ERROR or not isinstance(pattern[EXCEPTION], str)):
        return f"{EXCEPTION} names the type of an error event's exception"
    if expected and pattern["type"] == protocol.ERROR and EXCEPTION not in pattern:
        return f"an expected error must name its {EXCEPTION} type (any error would match)"
    return ""


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
