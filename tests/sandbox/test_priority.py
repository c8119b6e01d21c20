"""Learner code runs at a lower CPU priority than the site, and cannot raise it again."""

from __future__ import annotations

import pytest

from playground.sandbox import SandboxOptions, run_script
from tests.sandbox.support import FAST, connect, output

SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")

REPORT_NICENESS = """
import os
print("niceness", os.getpriority(os.PRIO_PROCESS, 0), flush=True)
try:
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    print("raised", flush=True)
except OSError as error:
    print("refused", type(error).__name__, flush=True)
"""


@SESSION_LOOP
async def test_learner_code_runs_at_the_configured_niceness_and_cannot_raise_it():
    events = await run_script(REPORT_NICENESS, [connect()], FAST, options=SandboxOptions().replace(niceness=7))
    printed = output(events)
    assert "niceness 7" in printed, printed
    assert "refused PermissionError" in printed, printed


@SESSION_LOOP
async def test_niceness_zero_leaves_the_priority_alone():
    events = await run_script(REPORT_NICENESS, [connect()], FAST, options=SandboxOptions().replace(niceness=0))
    assert "niceness 0" in output(events)


@pytest.mark.parametrize("niceness", [-1, 20])
def test_niceness_outside_0_to_19_is_refused(niceness):
    with pytest.raises(ValueError, match="niceness"):
        SandboxOptions().replace(niceness=niceness)


def test_the_default_is_nicer_than_the_site():
    assert SandboxOptions().niceness == 10
