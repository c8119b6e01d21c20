"""Redis goes away under open pages: they say "reconnecting", come back with backoff and jitter, and work again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS
from tests.factories import make_cohort, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Backoff tops out at 15 s (×1.5 jitter), so a page is back within about 25 s; the bound leaves room for a loaded
# machine (the delays themselves are checked exactly by test_reconnect_delays_grow_and_are_jittered).
BACK_WITHIN_MS = 60_000


def test_pages_say_reconnecting_while_redis_is_down_and_work_again_once_it_is_back(
    page, browser, own_redis, redis_servers
):
    (server,) = redis_servers()
    instructor, learner = make_user("prof", instructor=True), make_user("ada")
    cohort = make_cohort(instructor, name="Evening group", learners=[learner])

    log_in(page, server.url, "prof")
    page.goto(f"{server.url}/dashboard/cohorts/{cohort.pk}/")
    live_state = page.locator("#live-state")
    expect(live_state).to_have_attribute("data-state", "live")

    learner_context = browser.new_context()
    learner_page = learner_context.new_page()
    learner_page.set_default_timeout(BROWSER_WAIT_MS)
    log_in(learner_page, server.url, "ada")
    learner_page.goto(f"{server.url}/playground/echo/")
    playground = learner_page.locator("#playground")
    expect(playground).to_have_attribute("data-connected", "true")

    own_redis.stop()
    expect(live_state).to_have_attribute("data-state", "reconnecting")
    expect(live_state).to_have_text("reconnecting…")
    expect(learner_page.locator("#connection-state")).to_have_text("Connection lost: reconnecting…")

    own_redis.start()
    expect(live_state).to_have_attribute("data-state", "live", timeout=BACK_WITHIN_MS)
    expect(playground).to_have_attribute("data-connected", "true", timeout=BACK_WITHIN_MS)
    expect(learner_page.locator("#connection-state")).to_be_hidden()

    # The dashboard's new socket is in the cohort's group again: the learner's run shows up live.
    learner_page.get_by_role("button", name="Run", exact=True).click()
    expect(learner_page.locator("#run-status")).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("activity")).to_contain_text(re.compile(r"ada started a playground run"))
    learner_context.close()  # else its page goes on reconnecting to the stopped server for the rest of the worker's run


def test_reconnect_delays_grow_and_are_jittered(page, daphne_server):
    page.goto(daphne_server.url + "/")
    delays = page.evaluate(
        """async () => {
            const { retryDelay } = await import("/static/js/reconnect.js");
            return [0, 1, 2, 3, 4, 5, 8].map((attempt) => Array.from({ length: 20 }, () => retryDelay(attempt)));
        }"""
    )
    bases = [500, 1000, 2000, 4000, 8000, 15000, 15000]
    for base, samples in zip(bases, delays, strict=True):
        assert all(0.5 * base <= delay <= 1.5 * base for delay in samples), (base, samples)
        assert len(set(samples)) > 1, "every page would retry at the same instant"
