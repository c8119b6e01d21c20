"""The capacity benchmark's arithmetic: which samples a step's figures use, whether a step held, the largest class held.

Kept apart from the load generator so tests can check it without starting a server.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness import percentile

READ_P99_GOAL_MS = 200.0  # issue #14: read and answer p99 <= 200 ms and 0 failed handshakes
ANSWER_P99_GOAL_MS = 200.0
READ_ACTIONS = ("topic", "outline")  # both are lesson reads: the goal's read p99 is over them together


@dataclass
class StepSamples:
    """What the learners of one step did: (action, start time, ms) per success, (action, reason) per failure."""

    done: list[tuple[str, float, float]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: StepSamples) -> None:
        self.done += other.done
        self.failed += other.failed


def in_window(samples: StepSamples, action: str | tuple[str, ...], start: float, end: float) -> list[float]:
    """Milliseconds of the successes of `action` (or any of several) that started inside [start, end)."""
    actions = (action,) if isinstance(action, str) else action
    return [ms for name, began, ms in samples.done if name in actions and start <= began < end]


@dataclass
class StepVerdict:
    """One class size's figures and whether it held the goals."""

    learners: int
    read_p99: float | None
    answer_p99: float | None
    failed_handshakes: int
    errors: Counter

    @property
    def held(self) -> bool:
        """Read and answer p99 within their goals (a step with no samples of either holds nothing), no failures."""
        return (
            self.read_p99 is not None
            and self.answer_p99 is not None
            and self.read_p99 <= READ_P99_GOAL_MS
            and self.answer_p99 <= ANSWER_P99_GOAL_MS
            and self.failed_handshakes == 0
            and self.errors.total() == 0
        )


HANDSHAKE = "handshake"  # the failure reason prefix of a WebSocket the server did not accept


def judge(learners: int, samples: StepSamples, start: float, end: float) -> StepVerdict:
    """The verdict of a step: p99s over the measuring window, failures over the whole step (ramp included)."""
    reads, answers = in_window(samples, READ_ACTIONS, start, end), in_window(samples, "answer", start, end)
    handshakes = sum(1 for _, reason in samples.failed if reason.startswith(HANDSHAKE))
    errors = Counter(f"{action}: {reason}" for action, reason in samples.failed if not reason.startswith(HANDSHAKE))
    return StepVerdict(
        learners,
        percentile(reads, 99) if reads else None,
        percentile(answers, 99) if answers else None,
        handshakes,
        errors,
    )


def largest_held(verdicts: list[StepVerdict]) -> int | None:
    """The largest class that held, counting only classes below the smallest that did not (a lucky larger step
    after a failure does not raise the figure)."""
    failed = [v.learners for v in verdicts if not v.held]
    ceiling = min(failed) if failed else None
    held = [v.learners for v in verdicts if v.held and (ceiling is None or v.learners < ceiling)]
    return max(held) if held else None


def next_class(verdicts: list[StepVerdict], steps: list[int], resolution: int) -> int | None:
    """The next class to try: the listed steps in order until one fails, then halving the gap between the largest
    held and the smallest failed until it is within `resolution` learners; None when the search is done."""
    tried = {v.learners for v in verdicts}
    failed = [v.learners for v in verdicts if not v.held]
    if not failed:
        untried = [n for n in steps if n not in tried]
        return untried[0] if untried else None
    low, high = largest_held(verdicts) or 0, min(failed)
    if high - low <= resolution:
        return None
    middle = (low + high) // 2
    return None if middle in tried else middle
