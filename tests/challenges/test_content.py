"""Every challenge's model solution passes every test, every known-wrong solution fails the test its note names, and
no starter passes before the learner has written anything."""

from __future__ import annotations

import pytest

from challenges.grader import grade
from challenges.loader import get_challenges
from playground.run.limits import run_limits
from playground.sandbox import Sandbox
from playground.sandbox_supply import sandbox_options

CHALLENGES = get_challenges().challenges
WRONG = [(challenge.slug, wrong.file) for challenge in CHALLENGES for wrong in challenge.known_wrong]


async def cold_sandbox() -> Sandbox:
    return await Sandbox.start(run_limits(), sandbox_options())


def test_the_ladder_has_at_least_six_challenges_each_with_two_known_wrong_solutions():
    assert len(CHALLENGES) >= 6
    assert all(len(challenge.known_wrong) >= 2 for challenge in CHALLENGES)
    assert all(challenge.visible_tests and challenge.hidden_tests for challenge in CHALLENGES)


@pytest.mark.parametrize("slug", [challenge.slug for challenge in CHALLENGES])
async def test_model_solution_passes_every_test(slug):
    challenge = get_challenges().get(slug)
    results = await grade(challenge.tests, challenge.solution, cold_sandbox)
    assert [(r.name, r.reason) for r in results if not r.passed] == []


@pytest.mark.parametrize(("slug", "file"), WRONG)
async def test_known_wrong_solution_fails_the_test_its_note_names(slug, file):
    challenge = get_challenges().get(slug)
    wrong = next(w for w in challenge.known_wrong if w.file == file)
    results = await grade(challenge.tests, wrong.code, cold_sandbox)
    failed = {r.name for r in results if not r.passed}
    assert failed, f"{file} ({wrong.mistake}) passed every test"
    if wrong.fails:
        assert wrong.fails in failed, (wrong.mistake, failed)


@pytest.mark.parametrize("slug", [challenge.slug for challenge in CHALLENGES])
async def test_the_starter_does_not_pass_already(slug):
    challenge = get_challenges().get(slug)
    results = await grade(challenge.tests, challenge.starter, cold_sandbox)
    assert not all(result.passed for result in results)
