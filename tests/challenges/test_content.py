"""Every challenge's model solution passes every test, every known-wrong solution fails the test its note names, and
no starter passes before the learner has written anything.

Every test still runs in its own fresh sandbox; they come from one warm pool shared by this module, with Django's URL
machinery preloaded (preload=full), so a grading pays for its scripts rather than for interpreter start-ups. A known-wrong
solution is graded on the test its note names (tests are independent: that verdict is the same inside a full grading),
and a starter on its visible tests first, then on the hidden ones only if every visible test passed.
"""

from __future__ import annotations

import dataclasses

import pytest
import pytest_asyncio
from django.conf import settings

from challenges.grader import TestResult, grade
from challenges.loader import get_challenges
from challenges.types import TestScript
from lessons.catalogue import get_catalogue
from playground.run.limits import run_limits
from playground.sandbox import SandboxPool
from playground.sandbox.host import envbuild
from playground.sandbox_supply import sandbox_options

# Gradings wait on their sandboxes more than they compute (57 CPU-s in 86 s run alone): one xdist group, so they run on
# one worker beside CPU-bound tests (and the module's pool is started once).
pytestmark = pytest.mark.xdist_group("challenge-content")
SHARED_LOOP = pytest.mark.asyncio(loop_scope="module")  # the loop the module's pool lives on

CHALLENGES = get_challenges().challenges
WRONG = [(challenge.slug, wrong.file) for challenge in CHALLENGES for wrong in challenge.known_wrong]
WARM_SANDBOXES = 6  # the tests that play and those loading ahead (twice CHALLENGE_GRADING_PARALLEL), and spares


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def warm_pool():
    """A pool of single-use sandboxes for the whole module (each test still takes fresh ones)."""
    envbuild.build()
    options = dataclasses.replace(sandbox_options(), preload="full")
    pool = SandboxPool(WARM_SANDBOXES, run_limits(), options)
    await pool.start()
    yield pool
    await pool.close()


async def grade_with(pool: SandboxPool, tests: tuple[TestScript, ...], code: str) -> list[TestResult]:
    return await grade(
        tests,
        code,
        pool.acquire,
        parallel=settings.CHALLENGE_GRADING_PARALLEL,
        test_seconds=settings.CHALLENGE_TEST_SECONDS,
    )


def test_every_topic_has_a_challenge_and_every_challenge_two_known_wrong_solutions():
    topics = {topic.slug for topic in get_catalogue().topics}
    assert topics - {challenge.topic for challenge in CHALLENGES} == set()
    assert all(len(challenge.known_wrong) >= 2 for challenge in CHALLENGES)
    assert all(challenge.visible_tests and challenge.hidden_tests for challenge in CHALLENGES)
    assert {challenge.difficulty for challenge in CHALLENGES} == {"easy", "medium", "hard"}
    assert any(len(challenge.tests) == 10 for challenge in CHALLENGES)  # the grading benchmark's challenge


@SHARED_LOOP
@pytest.mark.parametrize("slug", [challenge.slug for challenge in CHALLENGES])
async def test_model_solution_passes_every_test(slug, warm_pool):
    challenge = get_challenges().get(slug)
    results = await grade_with(warm_pool, challenge.tests, challenge.solution)
    assert [(r.name, r.reason) for r in results if not r.passed] == []
    assert len(results) == len(challenge.tests)


@SHARED_LOOP
@pytest.mark.parametrize(("slug", "file"), WRONG)
async def test_known_wrong_solution_fails_the_test_its_note_names(slug, file, warm_pool):
    challenge = get_challenges().get(slug)
    wrong = next(w for w in challenge.known_wrong if w.file == file)
    named = tuple(test for test in challenge.tests if test.name == wrong.fails) or challenge.tests
    results = await grade_with(warm_pool, named, wrong.code)
    failed = {r.name for r in results if not r.passed}
    assert failed, f"{file} ({wrong.mistake}) passed {', '.join(t.name for t in named)}"
    if wrong.fails:
        assert wrong.fails in failed, (wrong.mistake, failed)


@SHARED_LOOP
@pytest.mark.parametrize("slug", [challenge.slug for challenge in CHALLENGES])
async def test_the_starter_does_not_pass_already(slug, warm_pool):
    challenge = get_challenges().get(slug)
    results = await grade_with(warm_pool, challenge.visible_tests, challenge.starter)
    if all(result.passed for result in results):
        results += await grade_with(warm_pool, challenge.hidden_tests, challenge.starter)
    assert not all(result.passed for result in results)
