"""One real Daphne per test session (per xdist worker) serves every fidelity case."""

from __future__ import annotations

import pytest

from tests.fidelity.harness import DaphneUnderTest


@pytest.fixture(scope="session")
def fidelity_daphne(tmp_path_factory):
    server = DaphneUnderTest(tmp_path_factory.mktemp("fidelity"))
    yield server
    server.stop()
