"""Every starter, every quiz verify block and every complete consumer module in a lesson, run in the sandbox and under a real Daphne: the client sees the same, or
the difference is a known one stated to the learner (tests/fidelity/differences.py)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from playground.run.limits import run_limits
from playground.sandbox import SandboxPool
from playground.sandbox_supply import sandbox_options
from tests.conftest import ROOT
from tests.fidelity.cases import lesson_cases, quiz_cases, starter_cases
from tests.fidelity.differences import KNOWN, unexplained
from tests.fidelity.harness import run_case

# The cases wait on Daphne and the sandbox more than they compute (61 CPU-s in 136 s run alone): as one xdist group they
# run on one worker beside CPU-bound tests, instead of holding every worker in their waits at the same time.
pytestmark = pytest.mark.xdist_group("fidelity-content")

CASES = {case.name: case for case in starter_cases() + quiz_cases() + lesson_cases()}


def test_every_starter_and_nearly_every_verify_block_is_a_case():
    from quizzes.bank import get_bank

    verified = [question for question in get_bank().questions.values() if question.verify]
    assert len([name for name in CASES if name.startswith("starter_")]) == len(
        list((ROOT / "content/starters").glob("*.py"))
    )
    assert len([name for name in CASES if name.startswith("quiz_")]) >= len(verified) - 3  # pause/step scripts only
    assert len([name for name in CASES if name.startswith("lesson_")]) >= 50


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def warm_sandbox():
    """One sandbox starting while the previous case plays against Daphne."""
    pool = SandboxPool(1, run_limits(), sandbox_options())
    await pool.start()
    yield pool
    await pool.close()


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", sorted(CASES))
async def test_the_sandbox_behaves_as_daphne_or_says_how_it_differs(fidelity_daphne, warm_sandbox, name):
    result = await run_case(fidelity_daphne, CASES[name], warm_sandbox)
    problems = unexplained(result)
    assert not problems, (CASES[name].source, [str(problem) for problem in problems], result.daphne.log[-20:])


@pytest.mark.parametrize("known", KNOWN, ids=lambda known: known.id)
def test_each_known_difference_is_stated_on_its_page(known):
    text = (ROOT / known.page).read_text(encoding="utf-8")
    assert known.marker in text, f"{known.page} does not state {known.id}: {known.reason}"
