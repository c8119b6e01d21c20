"""The capacity benchmark's arithmetic (bench/capacity_stats.py): its window, its verdicts and its search."""

from __future__ import annotations

import sys
from collections import Counter

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from capacity_stats import (
    HANDSHAKE,
    StepSamples,
    StepVerdict,
    in_window,
    judge,
    largest_held,
    next_class,
)


def verdict(learners: int, held: bool) -> StepVerdict:
    return StepVerdict(learners, 10.0 if held else 500.0, 10.0, 0, Counter())


def test_the_window_takes_what_started_inside_it_and_reads_are_topic_and_outline_together():
    samples = StepSamples(
        done=[("topic", 9.9, 1.0), ("topic", 10.0, 2.0), ("outline", 15.0, 3.0), ("answer", 19.9, 4.0)]
    )
    samples.done.append(("topic", 20.0, 5.0))  # starts as the window closes: outside
    assert in_window(samples, ("topic", "outline"), 10.0, 20.0) == [2.0, 3.0]
    assert in_window(samples, "answer", 10.0, 20.0) == [4.0]


def test_a_step_holds_at_its_goals_and_misses_just_past_them():
    at_goal = StepSamples(done=[("topic", 1.0, 200.0), ("answer", 1.0, 200.0)])
    assert judge(5, at_goal, 0.0, 2.0).held
    past = StepSamples(done=[("topic", 1.0, 200.1), ("answer", 1.0, 200.0)])
    assert not judge(5, past, 0.0, 2.0).held


def test_p99_is_the_nearest_rank_of_the_window_samples():
    samples = StepSamples(done=[("answer", 1.0, float(ms)) for ms in range(1, 201)] + [("topic", 1.0, 1.0)])
    assert judge(5, samples, 0.0, 2.0).answer_p99 == 198.0  # rank round(0.99 * 199) = 197 of 0..199


def test_failures_count_over_the_whole_step_and_handshakes_apart_from_errors():
    samples = StepSamples(
        done=[("topic", 5.0, 1.0), ("answer", 5.0, 1.0)],
        failed=[("run", f"{HANDSHAKE}: timed out"), ("answer", "status 500"), ("answer", "status 500")],
    )
    step = judge(5, samples, 4.0, 6.0)
    assert (step.failed_handshakes, step.errors) == (1, Counter({"answer: status 500": 2}))
    assert not step.held
    assert not judge(5, StepSamples(failed=[("run", f"{HANDSHAKE}: refused")]), 0.0, 1.0).held


def test_a_step_without_samples_holds_nothing():
    assert not judge(5, StepSamples(done=[("topic", 1.0, 1.0)]), 0.0, 2.0).held


def test_the_largest_class_held_ignores_a_lucky_step_above_a_miss():
    assert largest_held([verdict(100, True), verdict(200, False), verdict(300, True)]) == 100
    assert largest_held([verdict(100, False)]) is None
    assert largest_held([verdict(100, True), verdict(200, True)]) == 200


def test_the_search_climbs_the_steps_then_bisects_to_the_resolution():
    steps = [100, 200, 400]
    assert next_class([], steps, 25) == 100
    assert next_class([verdict(100, True)], steps, 25) == 200
    assert next_class([verdict(100, True), verdict(200, True), verdict(400, True)], steps, 25) is None
    tried = [verdict(100, True), verdict(200, True), verdict(400, False)]
    assert next_class(tried, steps, 25) == 300
    tried += [verdict(300, False)]
    assert next_class(tried, steps, 25) == 250
    tried += [verdict(250, True)]
    assert next_class(tried, steps, 25) == 275
    tried += [verdict(275, True)]
    assert next_class(tried, steps, 25) is None  # 275 held, 300 missed: within 25
    assert next_class([verdict(100, True), verdict(200, False)], steps, 10_000) is None  # the quick search stops
