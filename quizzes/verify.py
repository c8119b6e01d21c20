"""Runs a question's `verify` block in the sandbox and checks the keyed answer against what really happens."""

from __future__ import annotations

from typing import Any

from playground.run.limits import run_limits
from playground.sandbox import run_script
from playground.sandbox.shared import protocol
from playground.sandbox_supply import sandbox_options
from quizzes.bank import Question


def matches(event: dict[str, Any], pattern: dict[str, Any]) -> bool:
    return all(event.get(key) == value for key, value in pattern.items())


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


async def verify_question(question: Question, timeout: float = 30.0) -> tuple[list[str], list[dict[str, Any]]]:
    """(problems, events) of running the question's verify block in a fresh sandbox."""
    block = question.verify
    if block is None:
        raise ValueError(f"question {question.id!r} has no verify block")
    events = await run_script(
        block["consumer"], list(block["script"]), run_limits(), timeout, options=sandbox_options()
    )
    observable = [event for event in events if event["type"] != protocol.TRACE]
    return compare(observable, list(block["expect"]), list(block.get("forbid", []))), events
