"""The browser context tests share is left as a new one would be: no page, cookie or permission outlives a test."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import reset_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PERMISSION_STATE = "async () => (await navigator.permissions.query({name: 'clipboard-read'})).state"


def test_a_reset_context_keeps_no_page_cookie_or_permission_of_the_test_before(shared_context, daphne_server):
    first = shared_context.new_page()
    first.goto(daphne_server.url + "/accounts/login/")  # the form sets the CSRF cookie
    shared_context.add_cookies([{"name": "sessionid", "value": "someone-else", "url": daphne_server.url}])
    shared_context.grant_permissions(["clipboard-read"], origin=daphne_server.url)
    shared_context.new_page()
    assert {cookie["name"] for cookie in shared_context.cookies()} >= {"csrftoken", "sessionid"}
    assert first.evaluate(PERMISSION_STATE) == "granted"

    reset_context(shared_context)

    assert shared_context.pages == []
    assert shared_context.cookies() == []
    page = shared_context.new_page()
    page.goto(daphne_server.url + "/accounts/login/")
    assert page.evaluate(PERMISSION_STATE) == "prompt"
    assert "someone-else" not in {cookie["value"] for cookie in shared_context.cookies()}
    reset_context(shared_context)


def test_the_site_keeps_nothing_in_the_browser_that_reset_context_does_not_clear():
    """If a script starts keeping state elsewhere (localStorage, IndexedDB, a service worker, a cookie set by script),
    reset_context must clear it too, or one test's state would reach the next."""
    elsewhere = re.compile(r"localStorage|indexedDB|serviceWorker|caches\.open|document\.cookie\s*=")
    scripts = [*(ROOT / "static").rglob("*.js"), *(ROOT / "templates").rglob("*.html")]
    assert len(scripts) > 20
    assert [str(path) for path in scripts if elsewhere.search(path.read_text(encoding="utf-8"))] == []
