"""Reads content/predictions/TRACE.yaml, the stops authors mark on a lesson trace, and checks each against the trace.

A stop names a step of the trace (not its first: there is nothing before it to stop on) and, optionally, what to ask
about it (else what fits the row), a short answer instead of choices and the wrong choices to offer. Every error names file, line and field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.conf import settings

from lessons.catalogue import Catalogue, CatalogueError, ContentError, get_catalogue, snapshot
from lessons.catalogue.yaml_lines import LineDict, LineList, load_yaml
from predictions.questions import (
    ANSWER_FORMS,
    ASKS,
    MAX_DISTRACTORS,
    SHORT_ASKS,
    QuestionError,
    Stop,
    build_question,
    default_ask,
)

FOLDER = "predictions"
STOP_KEYS = ("step", "ask", "answer", "variable", "distractors")

StopsByTrace = MappingProxyType[str, tuple[Stop, ...]]


class StopsReader:
    """Validates one stops file against the events of its trace; all its errors are recorded."""

    def __init__(self, path: Path, display: Path, events: tuple[dict[str, Any], ...], errors: list[ContentError]):
        self.path, self.display, self.events, self.errors = path, display, events, errors

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(ContentError(self.display, line, field, message))

    def read(self) -> tuple[Stop, ...]:
        data = load_yaml(self.path, self.display, self.errors)
        if data is None:
            return ()
        if not isinstance(data, LineDict) or set(data) != {"stops"}:
            self.error(getattr(data, "line", 1), "", "must be a mapping with one key, stops: a list of stops")
            return ()
        listed = data["stops"]
        if not isinstance(listed, LineList) or not listed:
            self.error(data.line_of("stops"), "stops", "must be a list of at least one stop")
            return ()
        stops: list[Stop] = []
        for index, item in enumerate(listed):
            stop = self.read_stop(item, f"stops[{index}]", listed.line_of(index))
            if stop is None:
                continue
            if any(known.step == stop.step for known in stops):
                self.error(listed.line_of(index), f"stops[{index}].step", f"step {stop.step} has a stop already")
                continue
            stops.append(stop)
        return tuple(sorted(stops, key=lambda stop: stop.step))

    def read_stop(self, item: Any, field: str, line: int) -> Stop | None:
        if not isinstance(item, LineDict):
            self.error(line, field, "must be a mapping with step and ask")
            return None
        before = len(self.errors)
        for key in item:
            if key not in STOP_KEYS:
                self.error(item.line_of(key), f"{field}.{key}", f"unknown key (allowed: {', '.join(STOP_KEYS)})")
        step, ask = item.get("step"), item.get("ask", "")
        answer_form, variable = item.get("answer", "choice"), item.get("variable", "")
        distractors = item.get("distractors", [])
        steps = [event["step"] for event in self.events]
        if isinstance(step, bool) or not isinstance(step, int) or step not in steps:
            self.error(
                item.line_of("step"),
                f"{field}.step",
                f"{step!r} names no step of the trace (steps {steps[0]} to {steps[-1]})",
            )
        elif step == steps[0]:
            self.error(item.line_of("step"), f"{field}.step", "the first step has no step before it to stop on")
        elif not ask:  # no ask: what fits the row, as on a run's replay
            ask = default_ask(self.events[steps.index(step)])
        if ask and ask not in ASKS:  # none left means the step was wrong, which is reported already
            self.error(item.line_of("ask"), f"{field}.ask", f"must be one of {', '.join(ASKS)}")
        if answer_form not in ANSWER_FORMS:
            self.error(item.line_of("answer"), f"{field}.answer", f"must be one of {', '.join(ANSWER_FORMS)}")
        elif answer_form == "short" and ask in ASKS and ask not in SHORT_ASKS:
            self.error(item.line_of("answer"), f"{field}.answer", f"a {ask} is a sentence: ask it as a choice")
        if (ask == "variable") != bool(variable) or not isinstance(variable, str):
            self.error(item.line_of("variable"), f"{field}.variable", "name the variable exactly when ask is variable")
        if (
            not isinstance(distractors, list)
            or len(distractors) > MAX_DISTRACTORS
            or not all(isinstance(text, str) and text.strip() for text in distractors)
        ):
            self.error(
                item.line_of("distractors"),
                f"{field}.distractors",
                f"must be at most {MAX_DISTRACTORS} non-empty texts",
            )
        elif distractors and answer_form == "short":
            self.error(item.line_of("distractors"), f"{field}.distractors", "a short answer offers no choices")
        if len(self.errors) > before:
            return None
        stop = Stop(int(str(step)), str(ask), str(answer_form), str(variable), tuple(distractors))
        try:
            question = build_question(self.events, stop, seed=self.path.stem)
        except QuestionError as problem:
            self.error(item.line_of("ask"), f"{field}.ask", str(problem))
            return None
        if question.answer in stop.distractors:
            self.error(item.line_of("distractors"), f"{field}.distractors", "lists the real answer as a wrong one")
            return None
        return stop


def load_stops(content_dir: Path, catalogue: Catalogue) -> StopsByTrace:
    """Every stops file, keyed by trace name; raises CatalogueError listing every problem."""
    errors: list[ContentError] = []
    traces = {topic.trace.name: topic.trace for topic in catalogue.topics if topic.trace is not None}
    stops: dict[str, tuple[Stop, ...]] = {}
    for path in sorted((content_dir / FOLDER).glob("*")):
        display = path.relative_to(content_dir.parent)
        if path.suffix != ".yaml":
            errors.append(ContentError(display, 0, "", "stops files are TRACE.yaml"))
            continue
        trace = traces.get(path.stem)
        if trace is None:
            errors.append(ContentError(display, 0, "", f"no topic's execution mode uses a trace named {path.stem!r}"))
            continue
        stops[path.stem] = StopsReader(path, display, tuple(trace.events), errors).read()
    if errors:
        raise CatalogueError(errors)
    return MappingProxyType(stops)


@cache
def get_stops() -> StopsByTrace:
    """The process-wide stops, from the content snapshot when neither content nor this code changed."""
    content_dir, catalogue = Path(settings.CONTENT_DIR), get_catalogue()
    code = [*Path(__file__).parent.glob("*.py"), *Path(snapshot.__file__).parent.glob("*.py")]
    key = snapshot.version_key(content_dir, code)
    return snapshot.load_or_build("predictions", key, lambda: load_stops(content_dir, catalogue))


def stops_for(trace_name: str) -> tuple[Stop, ...]:
    return get_stops().get(trace_name, ())


__all__ = ["CatalogueError", "get_stops", "load_stops", "stops_for"]
