"""Runs a question's `verify` block in the sandbox once, and checks every choice's claim against what happened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playground.run.limits import run_limits
from playground.sandbox import run_script
from playground.sandbox.shared import protocol
from playground.sandbox_supply import sandbox_options
from quizzes.bank import CONTAINS, EXCEPTION, Question


def exception_type(event: Mapping[str, Any]) -> str:
    """The dotted type an `error` event's message starts with ("" for other events)."""
    if event.get("type") != protocol.ERROR:
        return ""
    return str(event.get("message", "")).split(":", 1)[0].strip()


def value_matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(value, str) and str(wanted[CONTAINS]) in value
    return bool(value == wanted)


def matches(event: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    """The event has every field of the pattern; `exception` matches the class name or its dotted path."""
    for name, wanted in pattern.items():
        if name == EXCEPTION:
            raised = exception_type(event)
            if not raised or (raised != wanted and not raised.endswith(f".{wanted}")):
                return False
        elif not value_matches(event.get(name), wanted):
            return False
    return True


def compare(events: list[dict[str, Any]], expect: list[dict[str, Any]], forbid: list[dict[str, Any]]) -> list[str]:
    """Problems found: expected events missing (in order) or forbidden ones present."""
    problems = []
    position = 0
    for pattern in expect:
        found = next((i for i in range(position, len(events)) if matches(events[i], pattern)), None)
        if found is None:
            problems.append(f"expected {pattern} (in order) but it did not happen")
        else:
            position = found + 1
    problems += [f"forbidden {pattern} happened" for pattern in forbid if any(matches(e, pattern) for e in events)]
    return problems


def check_claims(question: Question, events: list[dict[str, Any]]) -> list[str]:
    """Problems: the keyed choice's claim fails, or a distractor's claim holds, against the run's events."""
    observable = [event for event in events if event["type"] != protocol.TRACE]
    problems = []
    for key, choice in question.choices.items():
        claim, keyed = choice.claim, key in question.answer
        if claim is None:
            if keyed:
                problems.append(f"keyed choice {key!r} has no claim the run can prove")
            continue
        failures = compare(observable, list(claim.get("expect", [])), list(claim.get("forbid", [])))
        if keyed:
            problems += [f"keyed choice {key!r}: {failure}" for failure in failures]
        elif not failures:
            problems.append(f"distractor {key!r}'s claim also holds, so the run does not refute it: {dict(claim)}")
    return problems


async def run_verify(question: Question, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every event of one run of the question's verify block in a fresh sandbox."""
    block = question.verify
    if block is None:
        raise ValueError(f"question {question.id!r} has no verify block")
    events: list[dict[str, Any]] = await run_script(
        block["consumer"], list(block["script"]), run_limits(), timeout, options=sandbox_options()
    )
    return events


async def verify_question(question: Question, timeout: float = 30.0) -> tuple[list[str], list[dict[str, Any]]]:
    """(problems, events) of running the question's verify block once and checking every choice's claim."""
    events = await run_verify(question, timeout)
    return check_claims(question, events), events
