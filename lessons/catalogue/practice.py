"""Splits a practice page into questions whose solutions (and correct choice) stay on the server until asked for.

A question is a `## ` heading, its prompt, an optional choices block, and its solution:

    ## Question 1: who receives what?
    Prompt text...

    **Choices**

    - [ ] a wrong choice
    - [x] the right choice

    **Solution**

    Steps...
"""

from __future__ import annotations

import re
from pathlib import Path

from lessons.catalogue.errors import ContentError
from lessons.catalogue.rendering import plain_text, render_markdown
from lessons.catalogue.types import PracticeChoice, PracticePage, PracticeQuestion

SOLUTION_MARKER = "**Solution**"
CHOICES_MARKER = "**Choices**"
CHOICE_LINE = re.compile(r"^- \[(?P<mark>[ x])\] (?P<text>\S.*)$")
CHOICE_KEYS = "abcdef"


def _outside_fences(lines: list[str]) -> list[bool]:
    """For each line, whether it is Markdown text rather than the inside of a fenced code block."""
    flags, fenced = [], False
    for line in lines:
        is_fence = line.lstrip().startswith("```")
        flags.append(not fenced and not is_fence)
        if is_fence:
            fenced = not fenced
    return flags


class PracticeReader:
    """Parses one practice file; every problem becomes a ContentError with its line."""

    def __init__(self, display: Path, errors: list[ContentError]) -> None:
        self.display = display
        self.errors = errors

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.display, line, "practice", message))

    def read(self, text: str) -> PracticePage:
        lines = text.splitlines()
        text_lines = _outside_fences(lines)
        starts = [i for i, line in enumerate(lines) if text_lines[i] and line.startswith("## ")]
        if not starts:
            self.error(1, "a practice page needs at least one '## ' question")
            return PracticePage(intro_html="", questions=(), text="")
        intro = "\n".join(lines[: starts[0]]).strip()
        questions = []
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else len(lines)
            question = self.read_question(lines, text_lines, start, end)
            if question is not None:
                questions.append(question)
        ids = [question.id for question in questions]
        for question in questions:
            if ids.count(question.id) > 1:
                self.error(0, f"two questions share the heading anchor {question.id!r}")
                break
        intro_html = render_markdown(intro)[0] if intro else ""
        return PracticePage(intro_html=intro_html, questions=tuple(questions), text=search_text(intro_html, questions))

    def marker_line(self, lines: list[str], text_lines: list[bool], start: int, end: int, marker: str) -> int | None:
        found = [i for i in range(start, end) if text_lines[i] and lines[i].strip() == marker]
        if len(found) > 1:
            self.error(found[1] + 1, f"{marker} appears twice in one question")
        return found[0] if found else None

    def read_question(self, lines: list[str], text_lines: list[bool], start: int, end: int) -> PracticeQuestion | None:
        solution_at = self.marker_line(lines, text_lines, start, end, SOLUTION_MARKER)
        if solution_at is None:
            self.error(start + 1, f"the question has no {SOLUTION_MARKER} line")
            return None
        choices_at = self.marker_line(lines, text_lines, start, solution_at, CHOICES_MARKER)
        prompt_end = choices_at if choices_at is not None else solution_at
        prompt_html, headings = render_markdown("\n".join(lines[start:prompt_end]))
        choices: tuple[PracticeChoice, ...] = ()
        answer = None
        if choices_at is not None:
            choices, answer = self.read_choices(lines[choices_at + 1 : solution_at], choices_at + 2)
            if answer is None:
                return None
        solution = "\n".join(lines[solution_at + 1 : end]).strip()
        if not solution:
            self.error(solution_at + 1, "the solution is empty")
            return None
        return PracticeQuestion(
            id=headings[0].anchor,
            title=headings[0].text,
            prompt_html=prompt_html,
            choices=choices,
            answer=answer,
            solution_html=render_markdown(solution)[0],
        )

    def read_choices(self, block: list[str], first_line: int) -> tuple[tuple[PracticeChoice, ...], str | None]:
        """`- [ ] text` lines, one marked `- [x]`; returns the choices and the correct key (None on an error)."""
        choices: list[PracticeChoice] = []
        answer: str | None = None
        for offset, line in enumerate(block):
            if not line.strip():
                continue
            match = CHOICE_LINE.match(line)
            if match is None:
                self.error(first_line + offset, "a choice is one line '- [ ] text' (or '- [x] text' for the right one)")
                return (), None
            key = CHOICE_KEYS[len(choices)] if len(choices) < len(CHOICE_KEYS) else "?"
            if match["mark"] == "x":
                if answer is not None:
                    self.error(first_line + offset, "only one choice may be marked [x]")
                    return (), None
                answer = key
            choices.append(PracticeChoice(key=key, text_html=_inline(match["text"])))
        if not 2 <= len(choices) <= len(CHOICE_KEYS):
            self.error(first_line - 1, f"a choices block lists 2 to {len(CHOICE_KEYS)} choices")
            return (), None
        if answer is None:
            self.error(first_line - 1, "mark the right choice with [x]")
        return tuple(choices), answer


def search_text(intro_html: str, questions: list[PracticeQuestion]) -> str:
    """Plain text for search, without the mark that tells which choice is right."""
    parts = [intro_html]
    for question in questions:
        parts += [question.prompt_html, *(choice.text_html for choice in question.choices), question.solution_html]
    return plain_text(" ".join(parts))


def _inline(text: str) -> str:
    """A choice's Markdown without the wrapping paragraph."""
    html = render_markdown(text)[0]
    return html[3:-4] if html.startswith("<p>") and html.endswith("</p>") else html
