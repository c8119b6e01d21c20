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


@pytest.fixture(scope="session")
def shared_context(browser, browser_context_args):
    """One browser context per test process instead of one per test, on a suite bound by CPU: a new context and page
    cost Chromium 1.12 CPU-s for /lessons/ against 0.54 for a new page in a warm context (1.99 against 0.70 for a
    playground page); tests/e2e as a whole went from 830 to 797 CPU-s of the machine."""
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


@pytest.fixture
def context(shared_context):
    """The shared context, left as a new one would be for the next test: its pages closed (sessionStorage is per page),
    cookies and permissions cleared. The site keeps nothing else in the browser (no localStorage, no service worker)."""
    yield shared_context
    reset_context(shared_context)


def reset_context(context) -> None:
    """Close every page and clear what a context keeps for a site: cookies and granted permissions."""
    for page in context.pages:
        page.close()
    context.clear_cookies()
    context.clear_permissions()


@pytest.fixture
def page(page):
    """Every page action and expect() waits up to BROWSER_WAIT_MS for its condition."""
    page.set_default_timeout(BROWSER_WAIT_MS)
    return page
