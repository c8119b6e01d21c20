"""Browser tests: Playwright's sync API runs an event loop in this thread, so Django's async guard must step aside."""

from __future__ import annotations

import os

import pytest


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
    """Fail fast instead of waiting 30 s for an element that is not coming."""
    page.set_default_timeout(10_000)
    return page
