"""Browser tests: Playwright's sync API runs an event loop in this thread, so Django's async guard must step aside."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.e2e.views import BROWSER_WAIT_MS

# expect() waits as long as page actions do (its own default is 5 s).
expect.set_options(timeout=BROWSER_WAIT_MS)


@pytest.fixture(scope="session", autouse=True)
def allow_sync_orm_beside_playwright():
    """Only this test process's own factory calls and database teardown are affected; the server keeps its guard.

    Browser tests run after every other test of their process, xdist worker or not (see tests/conftest.py), so no
    async test runs with the guard off.
    """
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(page):
    """Every page action and expect() waits up to BROWSER_WAIT_MS for its condition."""
    page.set_default_timeout(BROWSER_WAIT_MS)
    return page
